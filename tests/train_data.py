"""A small two-class training file for `leadhub model train` (lift complaints and unpaid wages), shared
by the model tests so they all learn from the same rows."""

from pathlib import Path

LABELS = ("城乡建设", "劳动和社会保障")


def two_class_csv(path: Path, labels: tuple[str, str] = LABELS) -> Path:
    """Writes 30 rows of each class to ``path`` (title,text,label) and returns it; ``labels`` names
    the lift class first, the wage class second."""
    lift, wages = labels
    rows = ["title,text,label"]
    for i in range(30):
        rows.append(f"电梯{i},小区电梯坏了物业不修第{i}次,{lift}")
        rows.append(f"工资{i},公司拖欠工资第{i}个月,{wages}")
    path.write_text("\n".join(rows), encoding="utf-8")
    return path
