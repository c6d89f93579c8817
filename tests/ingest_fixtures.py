"""Source documents written for leadhub's tests: realistic Chinese content, several encodings."""

from __future__ import annotations

RSS = """<?xml version="1.0" encoding="{declared}"?>
<rss version="2.0"><channel><title>义乌新闻网·民生</title><link>https://news.example.cn/</link>
<item><title>稠城街道一小区电梯频繁故障 居民盼维修</title><link>https://news.example.cn/a/1001.html</link>
<guid>news-1001</guid><pubDate>Mon, 06 May 2024 09:30:00 +0800</pubDate>
<description>&lt;p&gt;近日，稠城街道某小区居民反映，小区3号楼电梯一个月内故障四次，老人出行困难。&lt;/p&gt;</description></item>
<item><title>江东街道路灯不亮 夜间出行存隐患</title><link>https://news.example.cn/a/1002.html</link>
<pubDate>Tue, 07 May 2024 20:15:00 +0800</pubDate>
<description>江东街道某路段十余盏路灯已不亮半个月，市民夜间出行不便。</description></item>
<item><title>市行政服务中心周末窗口排长队</title>
<description>有市民反映，周六上午办理业务排队近两小时，只开了两个窗口。</description></item>
</channel></rss>
"""

BROKEN_RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>论坛热帖</title>
<item><title>佛堂镇垃圾清运不及时</title><link>https://bbs.example.cn/t/77</link>
<description>佛堂镇某村垃圾桶满了三天没人清运，气味很大 & 蚊蝇很多</description></item>
<item><title>苏溪镇工地夜间施工扰民</title><link>https://bbs.example.cn/t/78</link>
<description>苏溪镇某工地每晚施工到凌晨<br>严重影响休息</description></item>
</channel>
"""  # an unescaped "&", an unclosed <br> and no </rss>: still two entries


def rss(declared: str = "utf-8") -> str:
    return RSS.format(declared=declared)


HOTLINE_HEADER = ["工单编号", "受理时间", "标题", "诉求内容", "来电人", "来电号码", "事发地址"]
HOTLINE_ROWS = [
    ["WO20240501001", "2024/5/1 09:12:33", "小区电梯故障", "稠城街道幸福小区3号楼电梯停运一周，物业称等配件，请督促维修。", "王女士", "13812345678", "稠城街道幸福小区"],
    ["WO20240501002", "2024-05-01 10:05:00", "办证多次跑腿", "到市行政服务中心办理营业执照，跑了三趟，每次要求补充不同材料。", "李先生", "13900001111", "市行政服务中心"],
    ["WO20240501003", "不是日期", "噪音扰民", "北苑街道某工地夜间施工。", "张先生", "", "北苑街道"],
    ["", "2024-05-01 11:00:00", "无编号", "这一行没有工单编号。", "", "", ""],
    ["WO20240501005", "2024-05-01 12:30:00", "拖欠工资", "某公司拖欠农民工工资三个月，劳动监察未处理。", "赵先生", "13700002222", "廿三里街道"],
]
HOTLINE_COLUMNS = {
    "external_id": "工单编号", "published_at": "受理时间", "title": "标题", "body": "诉求内容",
    "contact_name": "来电人", "contact_phone": "来电号码", "location_text": "事发地址",
}  # fmt: skip


def table_csv(header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    """A CSV export as a spreadsheet program writes it: a header row, then the rows."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def table_xlsx(header: list[str], rows: list[list[str]]) -> bytes:
    """An .xlsx export (openpyxl's): a header row, then the rows, on the first sheet."""
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def hotline_csv(encoding: str = "gbk") -> bytes:
    return table_csv(HOTLINE_HEADER, HOTLINE_ROWS, encoding)


def hotline_xlsx() -> bytes:
    return table_xlsx(HOTLINE_HEADER, HOTLINE_ROWS)
