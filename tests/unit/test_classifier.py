import pickle

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer

from enrichers.categorize import Categorizer
from enrichers.classifier import GramCounter, ModelFileError, TextClassifier, train
from enrichers.taxonomy import load_taxonomy

TEXTS = ["小区电梯坏了 物业不修", "公司拖欠工资\n三个月", "Bus stop 太远", "电梯 电梯 又坏了", "", "a"]


def test_gram_counts_equal_sklearns_char_ngrams_without_whitespace():
    ours = GramCounter((1, 3), min_df=1).fit(TEXTS)
    theirs = CountVectorizer(analyzer="char", ngram_range=(1, 3)).fit(["".join(t.lower().split()) for t in TEXTS])
    assert len(ours.vocabulary_) == len(theirs.vocabulary_)
    counts = ours.transform(TEXTS + ["电梯坏了没人管"])
    expected = theirs.transform(["".join(t.lower().split()) for t in TEXTS + ["电梯坏了没人管"]])
    # Same multiset of counts per text; column order differs (keys vs alphabetical).
    for row in range(counts.shape[0]):
        assert sorted(counts[row].data) == sorted(expected[row].data)


def test_token_form_and_raw_text_give_the_same_features():
    counter = GramCounter((1, 3), min_df=1).fit(TEXTS)
    assert (counter.transform(["小区 电梯 坏了"]) != counter.transform(["小区电梯坏了"])).nnz == 0


def test_lexicon_counts_dictionary_words_only():
    counter = GramCounter((2, 4), lexicon=True, min_df=1).fit(["电梯坏了", "梯坏"])
    assert len(counter.vocabulary_) == 1  # 电梯; 梯坏 and 梯坏了 are no words
    assert counter.transform(["电梯电梯", "梯坏"]).toarray().tolist() == [[2.0], [0.0]]


def test_unseen_or_empty_texts_give_empty_rows():
    counter = GramCounter((1, 3)).fit(["电梯", "电梯", "工资"])
    assert counter.transform([]).shape == (0, len(counter.vocabulary_))
    assert counter.transform(["", "xyz"]).nnz == 0
    assert GramCounter((1, 3)).fit(["甲", "乙"]).transform(["甲"]).shape == (1, 0)


def _tiny_training_set():
    texts, labels = [], []
    for i in range(30):
        texts.append(f"小区电梯坏了物业不修第{i}次")
        labels.append("城乡建设")
        texts.append(f"公司拖欠工资第{i}个月")
        labels.append("劳动和社会保障")
    return texts, labels


def test_train_scores_saves_and_loads(tmp_path):
    model = train(*_tiny_training_set(), extra_texts=["拖欠 工资 老板 跑路"], extra_labels=["劳动和社会保障"])
    assert model.scores["macro_f1"] == 1.0 and model.scores["train_size"] == 61
    model.save(tmp_path / "m.pkl")
    loaded = TextClassifier.load(tmp_path / "m.pkl")
    proba = loaded.predict_proba(["老板拖欠 工资"])[0]
    assert max(proba, key=proba.get) == "劳动和社会保障"
    (tmp_path / "other.pkl").write_bytes(pickle.dumps({"format": "something else"}))
    with pytest.raises(ModelFileError, match="not a leadhub classifier"):
        TextClassifier.load(tmp_path / "other.pkl")


class _FixedModel:
    """A stand-in model that answers the same probabilities for every text."""

    def __init__(self, proba: dict[str, float]) -> None:
        self.proba = proba

    def predict_proba(self, texts):
        return [dict(self.proba) for _ in texts]


def test_model_decides_among_its_labels_even_against_the_rules():
    # The rules point clearly at 城乡建设 (elevator, property management); the model says 劳动和社会保障.
    model = _FixedModel({"城乡建设": 0.3, "劳动和社会保障": 0.7})
    result = Categorizer(load_taxonomy(), model).categorize("小区电梯停运", "物业不修电梯，电梯停运一周")
    assert result.category == "劳动和社会保障" and result.confidence == 0.7 and not result.needs_triage


def test_rules_decide_a_class_the_model_never_learned_when_the_model_is_unsure():
    text = "在市行政服务中心办营业执照，跑了三趟，每次都让重复提交材料，窗口工作人员态度差"
    unsure = Categorizer(load_taxonomy(), _FixedModel({"城乡建设": 0.45, "劳动和社会保障": 0.45, "教育文体": 0.1}))
    assert unsure.categorize("", text).category == "政务服务"
    sure = Categorizer(load_taxonomy(), _FixedModel({"城乡建设": 0.9, "劳动和社会保障": 0.1}))
    assert sure.categorize("", text).category == "城乡建设"


def test_head_counts_the_opening_only():
    counter = GramCounter((1, 1), head=2, min_df=1).fit(["电 梯坏了"])
    assert len(counter.vocabulary_) == 2 and counter.transform(["梯电梯"]).sum() == 2


def test_a_lone_surrogate_is_just_a_character():
    counter = GramCounter((1, 1), min_df=1).fit(["a\ud800b"])
    assert counter.transform(["\ud800"]).sum() == 1


def test_two_views_combine_as_a_weighted_geometric_mean_sharpened_by_the_temperature():
    from enrichers.classifier import TwoViews, fit

    texts, labels = _tiny_training_set()
    model = fit(texts, labels)
    assert isinstance(model, TwoViews)
    asked = ["老板拖欠工资", "电梯坏了", "工资 电梯"]
    full, opening = model.full.predict_proba(asked), model.opening.predict_proba(asked)
    w = model.opening_weight
    for t in (1.0, 0.5):
        model.temperature = t
        expected = (full ** (1 - w) * opening**w) ** (1 / t)
        expected /= expected.sum(axis=1, keepdims=True)
        assert np.allclose(model.predict_proba(asked), expected)
        assert list(model.predict(asked)) == list(model.classes_[expected.argmax(axis=1)])


def test_train_fits_the_temperature_on_validation_and_the_final_model_uses_it():
    model = train(*_tiny_training_set())
    temperature = model.scores["calibration"]["temperature"]
    assert 0.05 <= temperature <= 20 and model.pipeline.temperature == pytest.approx(temperature, abs=1e-4)


def test_inner_folds_hold_out_every_row_once_stratified():
    from enrichers.classifier import inner_folds

    labels = ["a"] * 12 + ["b"] * 8
    folds = inner_folds(labels, 4, seed=3)
    assert len(folds) == 4
    assert sorted(np.concatenate(folds).tolist()) == list(range(20))  # each row held out exactly once
    for held in folds:  # stratified: each fold holds 3 a's and 2 b's
        assert sorted(labels[i] for i in held) == ["a"] * 3 + ["b"] * 2
    assert [f.tolist() for f in inner_folds(labels, 4, seed=3)] == [f.tolist() for f in folds]  # same seed, same folds


def test_inner_folds_shrink_to_the_commonest_class_and_vanish_below_two():
    from enrichers.classifier import inner_folds

    assert len(inner_folds(["a", "a", "a", "b"], 5, seed=0)) == 3
    assert inner_folds(["a", "b"], 5, seed=0) == []
    assert inner_folds([], 5, seed=0) == []


def test_in_columns_lays_a_folds_classes_out_in_the_full_order_with_zero_for_unseen():
    from enrichers.classifier import in_columns

    proba = np.array([[0.2, 0.8], [0.6, 0.4]])
    out = in_columns(proba, np.array(["c", "a"]), ["a", "b", "c"])
    assert out.tolist() == [[0.8, 0.0, 0.2], [0.4, 0.0, 0.6]]


def test_train_chooses_threshold_and_temperature_on_out_of_fold_rows_of_every_base_row():
    texts, labels = _tiny_training_set()
    model = train(texts, labels, folds=5)
    triage = model.scores["triage"]
    # Every one of the 60 base rows predicted once: the 12 validation rows and 4 folds of the other 48.
    assert triage["chosen_on"] == {"rows": 60, "folds": 5, "validation_rows": 12, "precision_bound_z": 1.645}
    assert triage["rows"] == 60 and triage["validation_split"]["rows"] == 12
    assert model.scores["calibration"]["chosen_on"]["rows"] == 60
    assert sum(b["n"] for b in model.scores["calibration"]["bins"]) == 60
    assert triage["threshold"] == pytest.approx(model.triage_threshold, abs=1e-4)
    only_validation = train(texts, labels, folds=1).scores["triage"]
    assert only_validation["chosen_on"] == {"rows": 12, "folds": 1, "validation_rows": 12, "precision_bound_z": 1.645}
