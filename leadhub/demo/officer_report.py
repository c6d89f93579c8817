"""The demo's experience officer files a report of their own, with a photo, through the same path as
``POST /api/v1/reports`` (leadhub.api.v1.submit_report): the loop the officers' door closes (file,
follow on /my, rate the answer) has something to show from the first minute.

The photo is drawn here (a closed lift door with a paper notice) rather than shipped as a file: the
demo needs a real JPEG to go through the same checks (type from the bytes, EXIF stripped, thumbnail),
not a particular picture.
"""

from __future__ import annotations

import datetime as dt
import io

from leadhub.access import Principal
from leadhub.intake import FieldReport, report_external_id
from leadhub.settings import Settings

OFFICER = "demo-intake"
OFFICER_GROUP = "international"
REPORT_ID = "demo-lift-out-of-service"
# handling.yaml names the report's case by this (source/external id), like every other planned case.
PLAN_LEAD = f"officer-intake/{report_external_id(OFFICER, REPORT_ID)}"


def lift_photo() -> bytes:
    """A 960×720 JPEG of a closed lift door with a notice taped on it."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (960, 720), (188, 186, 180))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 620, 960, 720), fill=(120, 116, 108))  # floor
    draw.rectangle((250, 90, 710, 640), fill=(150, 154, 158), outline=(90, 92, 96), width=8)  # frame
    draw.rectangle((270, 110, 478, 630), fill=(196, 200, 204))  # left door
    draw.rectangle((482, 110, 690, 630), fill=(196, 200, 204))  # right door
    draw.rectangle((400, 260, 560, 420), fill=(250, 250, 245), outline=(200, 40, 40), width=6)  # notice
    for y in range(290, 400, 24):
        draw.line((420, y, 540, y), fill=(60, 60, 60), width=5)
    draw.rectangle((740, 330, 780, 410), fill=(70, 72, 76))  # call buttons
    draw.ellipse((750, 345, 770, 365), fill=(230, 70, 60))
    draw.ellipse((750, 375, 770, 395), fill=(110, 110, 110))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def visited(now: dt.datetime) -> dt.datetime:
    return min(now, dt.datetime.now(dt.UTC)) - dt.timedelta(days=4, hours=3)


def officer_report(now: dt.datetime) -> FieldReport:
    """The report, visited four days before ``now`` (or before the real now, when ``now`` is later:
    a report never claims a visit in the future)."""
    return FieldReport(
        report_id=REPORT_ID,
        title="市民服务中心东侧电梯停运，轮椅和推婴儿车的办事群众上不了二楼",
        place="稠城街道 市民服务中心",
        visited_at=visited(now),
        tried="上午十点到市民服务中心二楼办理居住证，推着婴儿车，想坐东侧电梯上楼。",
        went_wrong="东侧电梯门上贴着“暂停使用”，没有写原因和恢复时间，也没有指引去另一部电梯。"
        "询问一楼导服台，工作人员说已经坏了一周。西侧电梯要绕到后门，没有任何标识。"
        "现场看到一位坐轮椅的老人也在等，最后是保安帮忙抬上楼的。",
        lang="zh",
    )


def file_officer_report(settings: Settings, pipeline, now: dt.datetime) -> str:
    """File the demo officer's report with its photo into ``pipeline``; returns the lead id."""
    from leadhub.api.context import build_context
    from leadhub.api.photos import Upload
    from leadhub.api.v1 import submit_report

    ctx = build_context(settings, pipeline)
    who = Principal(name=OFFICER, role="intake", group=OFFICER_GROUP)
    report = officer_report(now)
    # Sent from the hall half an hour after the visit, as an officer would: /my shows it then.
    received = report.visited_at + dt.timedelta(minutes=30)
    accepted = submit_report(ctx, report, who, [Upload(name="电梯停运.jpg", data=lift_photo())], received_at=received)
    return accepted.lead_id
