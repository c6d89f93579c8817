"""Entity extraction on complaint sentences written for these tests (names invented, Yiwu-style)."""

from enrichers.entities import Entity, entity_key, extract_entities
from enrichers.entity_dictionary import EntityDictionary


def keys(text: str) -> list[str]:
    return [e.key for e in extract_entities(text)]


def test_estate_with_coded_prefixes_gets_a_bare_key():
    found = extract_entities("A市A2区翠湖新城小区旁边的搅拌站噪音扰民，晚上根本睡不着")
    assert [(e.name, e.key, e.kind) for e in found] == [("翠湖新城小区", "翠湖新城", "estate")]


def test_street_prefix_is_not_part_of_the_name():
    assert keys("稠城街道翠湖新城附近修建搅拌站，粉尘很大") == ["翠湖新城"]


def test_road_before_an_estate_is_its_own_name():
    found = extract_entities("A5区宾王东路锦绣之城小区临街门面油烟扰民")
    assert [(e.key, e.kind) for e in found] == [("宾王东路", "road"), ("锦绣之城", "estate")]


def test_company_school_hospital_and_road_kinds():
    text = "反映义乌市福田街道鑫洲纺织有限公司拖欠工资；稠江中学门口早晚拥堵；佛堂镇卫生院挂号难；丹溪路路灯坏了"
    found = {e.key: e.kind for e in extract_entities(text)}
    # 卫生院 alone (after the town's name, a prefix) names no particular one.
    assert found == {"鑫洲纺织有限公司": "company", "稠江中学": "school", "丹溪路": "road"}


def test_generic_words_name_nothing():
    assert keys("我们小区的物业公司乱收费，该公司不给说法，导致小区业主不满") == []
    assert keys("附近的安置小区和居民小区都停水了") == []
    assert keys("城市道路和高速公路的公交线路都要调整") == []


def test_numbers_and_times_before_a_suffix_are_dropped():
    assert keys("2018年小区交房至今没有通燃气") == []


def test_a_name_inside_a_longer_one_is_the_same_place():
    assert keys("投诉蓝天景园滨江苑捆绑销售车位，滨江苑业主很气愤") == ["蓝天景园滨江苑"]


def test_a_community_named_after_an_estate_has_the_estate_s_key_and_an_estate_in_it_is_its_own():
    # The community is an area (its kind), under the key its residents use for the estate (青岩新村).
    found = extract_entities("青岩新村社区绿竹家园停车难")
    assert [(e.key, e.kind) for e in found] == [("青岩新村", "community"), ("绿竹家园", "estate")]


def test_entity_key_normalisation():
    assert entity_key("A市A2区翠湖新城小区") == "翠湖新城"
    assert entity_key("稠城街道翠湖新城") == "翠湖新城"
    assert entity_key("蓝天景园滨江苑项目") == "蓝天景园滨江苑"
    assert entity_key("宾王东路") == "宾王东路"  # a road keeps its name: nothing name-like would be left


def test_dictionary_finds_a_known_name_written_without_its_suffix():
    dictionary = EntityDictionary()
    assert [e.key for e in dictionary.extract("翠湖新城小区附近搅拌站扰民")] == ["翠湖新城"]
    # "翠湖" alone has no suffix: only the learned name finds it.
    assert [e.key for e in dictionary.extract("家住翠湖新城，每天被吵醒")] == ["翠湖新城"]


def test_dictionary_maps_a_known_name_with_a_word_in_front():
    dictionary = EntityDictionary([Entity("蓝天景园滨江苑", "蓝天景园滨江苑", "estate")])
    assert [e.key for e in dictionary.extract("购买商品房蓝天景园滨江苑被要求买车位")] == ["蓝天景园滨江苑"]


def test_a_known_road_with_words_in_front_is_that_road():
    dictionary = EntityDictionary()
    assert [e.key for e in dictionary.extract("青枫路的旧房改造什么时候开始")] == ["青枫路"]
    # The walk back takes the area or words of the sentence in front of a road's name; the known road is meant.
    for text in ("请问星沙青枫路的旧房改造何时启动", "为何同等地方青枫路这几排不能改造", "何时才会启动青枫路的旧房改造"):
        assert [(e.key, e.kind) for e in dictionary.extract(text)] == [("青枫路", "road")], text
    # Only a known road: an unknown one keeps what the rules found, and an estate is not taken for a road.
    assert [e.key for e in EntityDictionary().extract("请问星沙青枫路的旧房改造何时启动")] == ["星沙青枫路"]
    estates = EntityDictionary([Entity("青枫苑", "青枫苑", "estate")])
    assert [e.key for e in estates.extract("家住星沙青枫路，门口积水")] == ["星沙青枫路"]


def test_dictionary_ignores_short_keys():
    dictionary = EntityDictionary([Entity("华苑", "华苑", "estate")])
    assert len(dictionary) == 0


def test_a_place_word_inside_an_estate_name_but_not_first():
    # 海外 is a place word (jieba: s); inside a name it belongs to it, in front of 小区 alone it names nothing.
    assert keys("A4区绿地海外滩小区离高铁太近，噪音很大") == ["绿地海外滩"]
    assert keys("我家楼下小区的路灯坏了") == []


def test_an_estate_named_with_common_words_is_a_name_when_the_compound_is_no_word():
    # 金色 + 港湾 + 花园: each word common, the compound no dictionary word.
    assert keys("金色港湾花园的电梯又坏了") == ["金色港湾花园"]
    # One common word before the suffix is no name.
    assert keys("城市花园需要更多绿化") == []


def test_a_suffix_after_a_particle_or_first_in_a_clause_names_nothing():
    assert keys("我们小区停车难，该公司不管，在小区里乱停") == []
    assert keys("小区门口天天堵车") == []


def test_cores_saying_who_runs_it_or_its_sort_name_nothing():
    for text in ("A市市属中学的退休教师", "A4区区管小学的老师", "希望新建一所普惠制幼儿园", "营利性幼儿园乱收费", "这个公益性项目"):
        assert keys(text) == [], text
    assert keys("请为翠湖新城小区配建普惠制幼儿园") == ["翠湖新城"]


def test_metro_stations_are_named_after_their_line():
    from enrichers.entities import stations, suffix_entities

    assert stations("地铁5号线桃溪湖站出入口太少，5号线枫林桥站也一样") == ["桃溪湖站", "枫林桥站"]
    assert stations("反映地铁５号线A7县桃溪湖站点附近没有通道") == ["桃溪湖站"]
    assert stations("2号线和5号线的各站点都没有厕所") == []
    found = suffix_entities("咨询A市地铁5号线桃溪湖站出口设置问题")
    assert [(e.key, e.kind) for e in found] == [("桃溪湖站", "station")]


def test_suffix_kinds_says_which_kinds_of_place_a_text_puts_named_or_not():
    from enrichers.entities import suffix_kinds

    assert suffix_kinds("A市经济学院强制学生实习") == {"school"}
    assert "estate" not in suffix_kinds("小区旁边搅拌站太吵了")


def test_the_remembering_tagger_tags_as_jieba_does():
    import jieba.posseg

    from enrichers.entities import _jieba, clear_cache

    tagger, _ = _jieba()
    clear_cache()
    for text in ("翠湖新城小区旁边的搅拌站", "稠江中学门口堵车", "桃溪湖站出入口", "翠湖新城小区旁边的搅拌站"):
        assert [(w.word, w.flag) for w in tagger.cut(text)] == [(w.word, w.flag) for w in jieba.posseg.cut(text)]


def test_a_company_s_other_name_given_in_a_text_finds_it_where_only_that_name_is_written():
    from enrichers.entities import company_aliases, suffix_entities

    text = "2019年5月，A市88车贷(西地省翠鸟投资有限公司)爆雷，我们报案了"
    assert [(alias, e.key) for alias, e in company_aliases(text, suffix_entities(text))] == [("88车贷", "翠鸟投资有限公司")]
    short = "我是翠鸟汇普惠投资有限公司(简称翠鸟汇网)的出借人"
    assert [alias for alias, _ in company_aliases(short, suffix_entities(short))] == ["翠鸟汇网"]
    # The tail of a clause before brackets is no name; one ending in a suffix is for the suffix rules.
    assert company_aliases("住在沿线一千多米(翠鸟投资有限公司)", suffix_entities("翠鸟投资有限公司")) == []
    dictionary = EntityDictionary()
    dictionary.extract(text)
    assert [e.key for e in dictionary.extract("88车贷立案半年毫无进展")] == ["翠鸟投资有限公司"]


def test_company_aliases_at_every_place_the_name_stands():
    from enrichers.entities import company_aliases, suffix_entities

    text = "翠鸟投资有限公司（以下简称“翠鸟网”）爆雷了，翠鸟宝(翠鸟投资有限公司)也是它的"
    assert [alias for alias, _ in company_aliases(text, suffix_entities(text))] == ["翠鸟网", "翠鸟宝"]
    # A name not followed by its brackets gives nothing, wherever the brackets are.
    assert company_aliases("翠鸟投资有限公司爆雷(已立案)", suffix_entities("翠鸟投资有限公司爆雷")) == []


# Villages and communities: in a county-level city the village or community is the place people name.
def test_a_village_after_its_town_is_a_village():
    found = extract_entities("义亭镇柳塘村的自来水这几天发黄，还有一股怪味")
    assert [(e.name, e.key, e.kind) for e in found] == [("柳塘村", "柳塘村", "village")]
    # Written bare, or before its own committee, it is the same village.
    assert [(e.key, e.kind) for e in extract_entities("柳塘村自来水发黄有异味")] == [("柳塘村", "village")]
    assert [(e.key, e.kind) for e in extract_entities("柳塘村村委会一直不回应")] == [("柳塘村", "village")]


def test_a_village_the_segmenter_glues_to_its_town_is_found_by_the_town():
    # jieba cuts "大/陈镇马/畈/村": the town before the name bounds it.
    assert [(e.key, e.kind) for e in extract_entities("大陈镇马畈村村民低保申请没通过")] == [("马畈村", "village")]
    assert [(e.key, e.kind) for e in extract_entities("佛堂镇倍磊村的公交班次减少")] == [("倍磊村", "village")]


def test_a_village_named_after_a_road_is_a_village_not_the_road():
    assert [(e.key, e.kind) for e in extract_entities("城西街道何斯路村手机信号时有时无")] == [("何斯路村", "village")]


def test_a_community_is_a_community_and_its_sub_district_a_prefix():
    found = extract_entities("江东街道青枫社区旁工地半夜施工，吵得没法睡")
    assert [(e.name, e.key, e.kind) for e in found] == [("青枫社区", "青枫社区", "community")]
    # A community named after a road keeps the road in its name.
    assert [(e.key, e.kind) for e in extract_entities("反映人民路社区门口垃圾没人清")] == [("人民路社区", "community")]
    assert entity_key("江东街道青枫社区") == "青枫社区"


def test_a_village_and_a_factory_in_it_are_two_places():
    found = extract_entities("反映柳塘村针织厂拖欠工资")
    assert [(e.key, e.kind) for e in found] == [("柳塘村", "village"), ("针织厂", "company")]


def test_generic_words_ending_in_village_or_community_name_nothing():
    for text in (
        "农村的路不好走", "新农村建设要加快", "建设美丽乡村", "城中村改造太慢", "我们村里没有路灯", "全村人喝不上干净水",
        "隔壁村的人来倒垃圾", "本社区的物业不作为", "打造和谐社区", "北苑街道社区卫生服务中心疫苗难约", "村民反映村里路灯坏了",
        "镇里的贫困村", "去度假村玩", "自然村合并", "找社区也没用", "这个村的干部", "示范村评选", "2号社区巴士", "外嫁女回原村落户",
    ):  # fmt: skip
        assert [e for e in extract_entities(text) if e.kind in ("village", "community")] == [], text
