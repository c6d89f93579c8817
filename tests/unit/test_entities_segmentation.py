"""The cheaper segmentation the entity and hot-issue rules use gives jieba's own words and tags
(texts written for these tests, names invented)."""

import jieba
import jieba.analyse
import jieba.posseg as posseg
from jieba.posseg.viterbi import viterbi as jieba_viterbi

from enrichers.entities import _jieba
from enrichers.segmentation import DagCutter, Keywords, clear_caches, viterbi

TEXTS = [
    "A市A2区翠湖新城小区旁边的搅拌站噪音扰民，晚上根本睡不着！",
    "反映义乌市福田街道鑫洲纺织有限公司拖欠工资；稠江中学门口早晚拥堵。",
    "上溪镇塘西村村委会门口的路灯坏了三个月 , 没人修\n请尽快处理 2019-08-26 01:50",
    "丽发新城社区的业主反映：鼎盛华府二期的车位捆绑销售（以下简称“捆绑”），价格 18.5万 一个",
    "伊景园滨河苑伊景园滨河苑伊景园滨河苑的物业费太贵了了了",
    "地铁3号线松雅湖站出入口太少，绕行800米",
    "暮云街道青山社区和谐社区农村城中村倍磊村何斯路村大陈镇马畈村",
    "x",
    "锪锫镨钶",  # rare characters: states no dictionary word knows
]


def runs(text: str) -> list[str]:
    """Every stretch of Han characters of a text, and its pieces: what the tagger's HMM is given."""
    out = []
    for block in jieba.re_han_default.findall(text):
        han = "".join(ch if "\u4e00" <= ch <= "\u9fd5" else " " for ch in block).split()
        for run in han:
            out += [run[i:j] for i in range(len(run)) for j in range(i + 1, min(len(run), i + 12) + 1)]
    return out


def test_viterbi_gives_jiebas_path_and_score_on_every_run():
    tables = (posseg.char_state_tab_P, posseg.start_P, posseg.trans_P, posseg.emit_P)
    checked = 0
    for text in TEXTS:
        for run in runs(text):
            assert viterbi(run, *tables) == jieba_viterbi(run, *tables), run
            checked += 1
    assert checked > 1000


def test_tagger_tags_as_jiebas_posseg():
    # Its paths through the dictionary (Routes), its HMM (viterbi) and remembered runs are the cheaper parts.
    tagger, _ = _jieba()
    for text in TEXTS:
        assert [(w.word, w.flag) for w in tagger.cut(text)] == [(w.word, w.flag) for w in posseg.dt.cut(text)]


def test_keywords_weigh_as_jiebas_tfidf_and_remember_blocks():
    tfidf = jieba.analyse.TFIDF()
    keywords = Keywords(tfidf, jieba.dt)
    texts = [
        *TEXTS,
        "".join(TEXTS),
        "噪音 噪音，噪音。搅拌站搅拌站\r\n搅拌站 丽发新城 丽发新城",
    ]  # repeats: ties and order of first mention
    for text in texts:
        for top in (3, 24):
            expected = tfidf.extract_tags(text, topK=top, withWeight=True)
            assert keywords.extract(text, top) == expected
            assert keywords.extract(text, top) == expected  # a second time, from the remembered blocks
    assert keywords._block.cache_info().hits > 0
    clear_caches()
    assert keywords._block.cache_info().currsize == 0


def test_dag_cutter_cuts_blocks_as_jieba():
    cutter = DagCutter(jieba.dt)
    blocks = [b for text in TEXTS for b in jieba.re_han_default.findall(text)]
    blocks += [b[i:] for b in blocks for i in range(1, len(b))]  # other starts: other paths through the dictionary
    for block in blocks:
        assert list(cutter.cut_block(block)) == list(jieba.cut(block)), block
