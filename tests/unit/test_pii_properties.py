"""Property tests of personal-data masking: every written variant the quality benchmark generates is
masked, and the dates, amounts and order numbers around it survive."""

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.pii_quality import GENERATORS, leaked, sentence
from enrichers.pii import mask_pii


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(sorted(GENERATORS)), rng=st.randoms(use_true_random=False))
def test_any_generated_variant_is_masked_and_its_context_kept(kind, rng):
    text, value, keep = sentence(kind, rng)
    masked, kinds = mask_pii(text)
    assert kinds, text
    # The kept items explain their own digits: a QQ number "10000" may also stand inside an order number.
    assert not leaked(masked, value, text.replace(value, " ") + " " + " ".join(keep)), (text, masked)
    for item in keep:  # the date, amount and order number in the same sentence
        assert item in masked, (item, masked)


_dates = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2039, 12, 31)).flatmap(
    lambda d: st.sampled_from([
        f"{d.year}年{d.month}月{d.day}日", f"{d:%Y-%m-%d}", f"{d:%Y/%m/%d}", f"{d:%Y.%m.%d}", f"{d:%Y%m%d}",
        f"{d:%Y-%m-%d} 10:30:00", f"{d.year}/{d.month}/{d.day} 9:05",
    ])
)  # fmt: skip
_amounts = st.one_of(
    st.integers(0, 10**9).map(lambda n: f"{n}元"),
    st.integers(0, 10**9).map(lambda n: f"{n:,}元"),
    st.decimals(0, 10**7, places=2, allow_nan=False, allow_infinity=False).map(lambda d: f"¥{d}"),
    st.integers(1, 9999).map(lambda n: f"{n}万元"),
)
_orders = st.tuples(
    st.sampled_from(["订单号", "工单号：", "快递单号 ", "编号", "流水号:", "合同号 ", "运单号", "No.", "案件号"]),
    st.sampled_from(["", "YW", "SF", "JD", "E"]),
    st.text("0123456789", min_size=6, max_size=22),
).map("".join)
_cues = st.sampled_from(["", "我于", "共计", "截至", "涉及", "订单显示", "花费", "电话投诉，"])


@settings(max_examples=400, deadline=None)
@given(cue=_cues, item=st.one_of(_dates, _amounts, _orders), tail=st.sampled_from(["", "，", "。请处理", " 至今未解决"]))
def test_dates_amounts_and_order_numbers_survive(cue, item, tail):
    text = f"{cue}{item}{tail}"
    assert mask_pii(text) == (text, [])
