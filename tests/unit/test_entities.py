"""Entity extraction on complaint sentences written for these tests (names invented, Yiwu-style)."""

from enrichers.entities import Entity, EntityDictionary, entity_key, extract_entities


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


def test_unit_name_before_an_administrative_unit_is_a_prefix():
    assert keys("青岩新村社区绿竹家园停车难") == ["绿竹家园"]


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
