"""The word lists behind entity extraction (enrichers/entities.py): which suffixes end a name and of
what kind, and the cores, names and words that look like a name but name nothing in particular.
Each list says why it holds what it holds; the rules that use them are in entities.py."""

from __future__ import annotations

# suffix -> kind; longest suffixes are tried first (有限公司 before 公司, 大学 before 学).
SUFFIXES: dict[str, str] = {
    **dict.fromkeys(("小区", "花园", "苑", "家园", "新城", "之城", "国际城", "公寓", "新村", "楼盘", "华府", "山庄", "雅居", "名城", "庭院", "府邸"), "estate"),
    **dict.fromkeys(("有限公司", "公司", "集团", "工厂", "厂", "搅拌站", "商场", "酒店", "商城", "度假村"), "company"),
    **dict.fromkeys(("学校", "学院", "大学", "中学", "小学", "幼儿园", "附中", "职校"), "school"),
    **dict.fromkeys(("医院", "卫生院", "诊所"), "hospital"),
    **dict.fromkeys(("路", "大道", "大街", "街", "大桥", "高速", "隧道"), "road"),
    **dict.fromkeys(("项目", "工程", "广场", "公园", "工业园", "产业园", "园区", "车站", "站"), "project"),
    # In a county-level city the village or residential community is the place people name (上溪镇塘西村);
    # 新村 above stays an estate (青山新村 is a housing estate).
    "村": "village",
    "社区": "community",
}
# Kinds that are an area rather than one thing in it: a road, a village, a community is often only an
# address, and counts half against an estate or company named with it (hot_issues).
AREA_KINDS = frozenset(("road", "village", "community"))
# A village's or community's own committee after its name ("塘西村村委会") does not make the name a prefix.
COMMITTEES = frozenset(("村委会", "村委", "村民委员会", "居委会", "居委", "居民委员会", "村两委", "党支部", "党委"))
# Generic cores: with them a "name" names nothing in particular.
GENERIC_CORES = frozenset((
    "物业", "物业服务", "物业管理", "开发", "开发商", "房地产", "地产", "置业", "有限", "有限责任", "分", "子", "总", "建筑", "建设",
    "施工", "安置", "居民", "周边", "附近", "整个", "目前", "现在", "本", "该", "这个", "那个", "我们", "你们", "他们", "各",
    "其他", "其它", "一些", "所在", "所有", "这些", "老旧", "商品房", "住宅", "新", "老", "旧", "小", "大", "中", "民办", "公办",
    "私立", "公立", "培训", "学", "中小", "中小学", "高", "初", "医", "综合", "管理", "马", "公", "道", "马路", "道路", "公路",
    "街", "大街", "小街", "门", "出", "进", "网", "一", "二", "三", "此", "某", "某某", "某个", "个", "家", "那家", "这家",
    "该小区", "本小区", "小区", "公司", "学校", "医院", "项目", "工程", "重点", "民生", "政府", "国有", "国企", "私营", "外地",
    "供水", "自来水", "燃气", "电力", "供电", "移动", "联通", "电信", "银行", "保险", "快递", "劳务", "中介", "装修", "环卫",
    "科技", "实业", "投资", "发展", "贸易", "商贸", "网络", "信息", "技术", "文化", "传媒", "教育", "城投", "公交", "出租", "房产", "保安", "运营", "车", "停车", "加油", "充电", "收费", "检查", "服务", "部", "站", "学生",
    "农贸", "菜", "生鲜", "批发", "农村", "城市", "全市", "全省", "全国", "本地", "当地", "市", "区", "县", "镇", "乡", "村",
    "校", "院", "园", "幼儿", "工", "单位", "企业", "工作", "业主", "商家", "门面", "商铺", "门店",
    "施工单位", "建设单位", "开发单位", "责任单位", "相关单位",
))  # fmt: skip
# Cores that say what sort of village or community it is, not which one (和谐社区, 示范村, 隔壁村, 城中村):
# checked on villages and communities only (as words they stand inside other names: 旅游公司, 生态园).
GENERIC_AREA_CORES = frozenset((
    "和谐", "智慧", "文明", "示范", "模范", "先进", "美丽", "美丽乡", "绿色", "平安", "数字", "网格", "新型", "城中", "自然",
    "行政", "隔壁", "贫困", "试点", "特色", "传统", "城郊", "近郊", "偏远", "农业", "旅游", "生态", "宜居", "未来", "共富",
    "新农", "城乡", "城镇", "乡镇", "中心", "专业", "淘宝", "明星", "网红", "空心", "郊区", "社会", "农民", "居民区", "住宅区",
    "老城", "城区", "农家", "山区", "边远", "落后", "我们", "你们", "他们", "整个", "全体", "周围", "对面", "旁边", "隔壁的",
    "新", "老", "本", "该", "全", "邻", "整", "各", "外", "同", "山", "渔", "乡", "古", "小", "大", "大型", "小型", "超大",
    "新建", "高档", "成熟", "封闭", "开放式", "配套", "周边", "附近", "所在", "所属", "辖区", "属地", "基层", "城市", "农村",
    "癌症", "别墅", "家园", "建议", "联系", "报告", "委托", "事由", "间距", "甩锅", "弱势", "原籍", "婆家", "娘家", "老家",
))  # fmt: skip
# Common words that end like a name but are none (线路 is no road, 现场 no place): never a suffix.
NOT_SUFFIX_WORDS = frozenset((
    "线路", "道路", "马路", "公路", "铁路", "出路", "思路", "网路", "电路", "水路", "小路", "大路", "老路", "新路", "弯路", "套路",
    "一路", "沿路", "门路", "走路", "过路", "迷路", "让路", "修路", "上路", "进路", "来路", "退路", "活路", "死路", "前路", "后路",
    "山路", "土路", "近路", "夜路", "带路", "断路", "短路", "半路", "街", "上街", "逛街", "满街", "沿街", "临街", "当街", "站",
    "车站", "网站", "站站", "工厂", "厂", "工程", "项目", "广场", "公园", "园区", "学院", "大学", "公司", "集团", "医院",
    "农村", "乡村", "山村", "渔村", "城中村", "自然村", "行政村", "邻村", "整村", "新农村", "全村", "本村", "该村", "各村", "村村",
    "进村", "出村", "回村", "驻村", "包村", "下村", "同村", "外村", "度假村",
))  # fmt: skip
# Business words inside company names ("聚利人普惠投资有限公司"): part of the name, never what makes it distinctive.
BUSINESS_WORDS = frozenset((
    "投资", "科技", "实业", "发展", "置业", "房地产", "地产", "开发", "物业", "管理", "服务", "建设", "工程", "普惠", "文化", "传媒",
    "贸易", "商贸", "网络", "信息", "技术", "教育", "咨询", "金融", "资产", "控股", "股份", "有限", "责任", "建筑", "装饰", "劳务",
))  # fmt: skip
# Whole "names" that are common phrases ending like a name (found on the board messages' most frequent hits).
GENERIC_NAMES = frozenset((
    "公交线路", "部分公交线路", "城市道路", "高速公路", "必经之路", "走投无路", "大马路", "泥巴路", "水泥路", "快速路", "城际铁路",
    "商品住宅", "人防工程", "市政工程", "政工程", "豆腐渣工程", "害民工程", "民心工程", "形象工程", "二期工程", "招商引资",
    "普惠性幼儿园", "普惠幼儿园", "民办幼儿园", "公办幼儿园", "人车分流", "历史遗留问题", "实验学校", "地铁站", "垃圾站",
    "始发站", "终点站", "质监站", "公交站", "加油站", "商业街", "步行街", "中心医院", "人民医院", "社区医院", "民营医院",
    "改扩建项目", "扩建项目", "改建项目", "新建项目", "在建项目", "建设项目", "重点项目", "民生项目", "配套项目",
    "美丽乡村", "新农村", "城中村", "和谐社区", "智慧社区", "文明社区", "示范社区", "农村社区", "城市社区", "老旧社区",
    "社区医院",
))  # fmt: skip
