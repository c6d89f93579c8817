"""English leads (the foreign experience officers' reports): category, department and place.

    python -m benchmarks.english_quality

A set of English leads written for this benchmark (not taken from any data set), covering the
taxonomy's level-1 classes and Yiwu's places as foreigners write them (pinyin town names such as
"Choucheng", "Futian market", "International Trade City"). Rows: level-1 accuracy, department
accuracy (the department the expected level-2 class routes to), place found-rate (the expected town
or sub-district) and the share sent to triage. Rules only, as a deployment without a model routes.

The English keywords and place aliases in enrichers/data were written while reading these leads, so
the scores are in-sample: they show the rules cover this set, not how they do on unseen English.
The second row is the held-out set in benchmarks/english_heldout.py, written blind (without reading
those keywords, aliases or leads): that row is the estimate for unseen English.

Place found-rate is over the leads that name a town (did the locator find it); place accuracy is over
all leads (the located town, or none, equals the label), so it also counts a town found where the
text names none. "wrong, not triaged" is the share with a wrong level-1 class that was not sent to
triage: the leads that would reach the wrong department unseen; "untriaged" accuracy is the level-1
accuracy of the leads the rules route on their own.
"""

from __future__ import annotations

from benchmarks.common import print_table, write_json
from benchmarks.english_heldout import LEADS as HELDOUT
from benchmarks.english_heldout import Lead
from enrichers.categorize import Categorizer
from enrichers.places import Gazetteer, load_gazetteer
from enrichers.taxonomy import load_taxonomy

# (title, text, level-1, level-2, town the text names or None)
# fmt: off
LEADS: list[tuple[str, str, str, str, str | None]] = [
    ("Street lights broken", "The street lights on Chouzhou Road in Choucheng have been off for two weeks; it is pitch dark at night.", "城乡建设", "城市建设和市政管理", "稠城街道"),
    ("Garbage not collected", "Garbage bins near my apartment in Beiyuan have not been emptied for five days and they stink.", "城乡建设", "城市建设和市政管理", "北苑街道"),
    ("Missing manhole cover", "A manhole cover is missing on the sidewalk in Jiangdong, a child almost fell in.", "城乡建设", "城市建设和市政管理", "江东街道"),
    ("Illegal street vendors", "Street vendors block the pavement outside Binwang Market every evening.", "城乡建设", "城市建设和市政管理", "稠城街道"),
    ("No water since morning", "There has been a water outage in Houzhai since 7 am with no notice.", "城乡建设", "城市建设和市政管理", "后宅街道"),
    ("Illegal construction on rooftop", "My neighbour is building an illegal extension on the roof in Chengxi, it blocks our sunlight.", "城乡建设", "城乡规划", "城西街道"),
    ("Cracks in new apartment walls", "Our new apartment in Futian has cracks in the walls and water leaks from the ceiling.", "城乡建设", "工程质量", "福田街道"),
    ("Scaffolding unsafe", "The scaffolding at the construction site near Niansanli has no safety net and bricks fall on the road.", "城乡建设", "安全生产", "廿三里街道"),
    ("Landlord keeps deposit", "My landlord in Choucheng refuses to return my rental deposit after I moved out.", "城乡建设", "住房保障与房地产", "稠城街道"),
    ("Demolition compensation", "We have not received the demolition compensation for our house in Fotang that was torn down last year.", "城乡建设", "国有土地上房屋征收与补偿", "佛堂镇"),
    ("Factory smoke", "A factory in Suxi burns waste at night, black smoke and a chemical smell fill the village.", "环境保护", "环境污染", "苏溪镇"),
    ("Construction noise at night", "Construction noise after midnight in Jiangdong, the drilling keeps my kids awake.", "环境保护", "环境污染", "江东街道"),
    ("River polluted", "The river in Yiting is polluted, dead fish and sewage discharge from a workshop.", "环境保护", "环境污染", "义亭镇"),
    ("Restaurant fumes", "The barbecue restaurant below us in Beiyuan blows oily smoke and cooking fumes into our windows.", "环境保护", "环境污染", "北苑街道"),
    ("Dust from quarry", "Dust from the quarry trucks in Chi'an covers our houses, the air pollution is terrible.", "环境保护", "环境污染", "赤岸镇"),
    ("Taxi refused short trip", "A taxi driver at Yiwu Railway Station refused to use the meter and asked 100 yuan.", "交通运输", "出租车管理", "后宅街道"),
    ("Bus route cancelled", "The bus route from Shangxi to the city centre was cancelled and there is no public transport now.", "交通运输", "客货运输", "上溪镇"),
    ("Courier lost parcel", "A courier company lost my parcel and the express delivery staff will not answer.", "交通运输", "邮政管理", None),
    ("Bus driver rude and late", "The bus to Dachen came 40 minutes late and the bus driver skipped our stop.", "交通运输", "客货运输", "大陈镇"),
    ("Pothole on the highway", "A huge pothole on the road to Yiwu Airport damaged my tyre, the road surface is broken.", "交通运输", "建设管理", None),
    ("Salary not paid", "Our factory in Suxi has not paid wages for three months, forty workers are owed salary.", "劳动和社会保障", "工资福利", "苏溪镇"),
    ("No labour contract", "My employer refuses to sign a labour contract and fired me without compensation.", "劳动和社会保障", "劳动关系", None),
    ("Social insurance not paid", "The company did not pay my social insurance for a year though it was deducted from my pay.", "劳动和社会保障", "城镇职工社会保险", None),
    ("Pension office", "How do I apply for my pension after I retire; the pension office gives different answers.", "劳动和社会保障", "退休政策及待遇", None),
    ("Forced overtime", "We are forced to work overtime every day without overtime pay at a workshop in Futian.", "劳动和社会保障", "劳动保护", "福田街道"),
    ("Job training", "Is there free job training for unemployed residents in Houzhai?", "劳动和社会保障", "就业培训", "后宅街道"),
    ("School fees too high", "The private school in Choucheng charges extra tuition fees and textbook fees without receipts.", "教育文体", "教育收费", "稠城街道"),
    ("Kindergarten enrolment", "My child cannot get a kindergarten place in Beiyuan because we have no local household registration.", "教育文体", "考试招生", "北苑街道"),
    ("Teacher hits students", "A teacher at the primary school in Fotang hit students in class.", "教育文体", "教师队伍和待遇", "佛堂镇"),
    ("Gym closed", "The public sports stadium in Jiangdong is closed to residents on weekends.", "教育文体", "体育", "江东街道"),
    ("Library hours", "The city library and cultural centre close too early for working people.", "教育文体", "文化", None),
    ("Fake goods sold", "A shop in the International Trade City sold me fake goods and refuses a refund.", "商贸旅游", "市场监管", "福田街道"),
    ("Overcharged at market", "A seller at Futian market overcharged me and the price tag was different from the bill.", "商贸旅游", "市场监管", "福田街道"),
    ("Export licence delay", "Our trading company's export declaration at the customs office is delayed for weeks.", "商贸旅游", "商业贸易", None),
    ("Tour guide cheated tourists", "A tour guide at Fotang Ancient Town forced tourists into a shopping stop.", "商贸旅游", "旅游管理", "佛堂镇"),
    ("Weights wrong", "The scale at a stall in Huangyuan Market is rigged, short weight every time.", "商贸旅游", "市场监管", "稠城街道"),
    ("Expired food", "A supermarket in Chengxi sells expired food, the milk was two weeks past its date.", "卫生计生", "食品药品监管", "城西街道"),
    ("Hospital waiting", "At Yiwu Central Hospital the doctor saw me for two minutes after a four hour wait and prescribed wrong medicine.", "卫生计生", "医政监管", None),
    ("Restaurant hygiene", "Cockroaches in the kitchen of a restaurant in Choucheng, I got food poisoning.", "卫生计生", "食品药品监管", "稠城街道"),
    ("Vaccination appointment", "The community health centre in Niansanli has no vaccine appointments for children.", "卫生计生", "公共卫生", "廿三里街道"),
    ("Medical dispute", "My father died after surgery and the hospital refuses to show us the medical records.", "卫生计生", "医患纠纷", None),
    ("Phone stolen", "My phone was stolen on the bus near Binwang Market, the police did nothing.", "政法", "社会治安", "稠城街道"),
    ("Online fraud", "I lost 20,000 yuan to an online fraud, a fake customer service call.", "政法", "社会治安", None),
    ("Residence permit", "I applied for my residence permit at the police station in Jiangdong and it is still not issued.", "政法", "户籍证件", "江东街道"),
    ("Traffic accident", "A hit-and-run traffic accident at the crossing in Beiyuan, the traffic police have not called back.", "政法", "交通管理", "北苑街道"),
    ("Illegal parking", "Cars park illegally on the pavement in Futian every day, please send traffic police.", "政法", "交通管理", "福田街道"),
    ("Gambling den", "There is a gambling den in a rented house in Yiting, people come all night.", "政法", "社会治安", "义亭镇"),
    ("Court judgement not enforced", "The court judgement in my favour has not been enforced for a year.", "政法", "诉讼", None),
    ("Official takes bribes", "An official at the town office in Shangxi takes bribes for building permits.", "纪检监察", "贪污贿赂", "上溪镇"),
    ("Corruption in village", "Village cadres in Dachen embezzled the village collective money, corruption must be investigated.", "纪检监察", "贪污贿赂", "大陈镇"),
    ("Subsidy for farmers", "Farmers in Chi'an have not received the grain subsidy this year.", "农村农业", "惠农补贴", "赤岸镇"),
    ("Irrigation canal broken", "The irrigation canal in Yiting is broken and our fields have no water.", "农村农业", "水利水电", "义亭镇"),
    ("Village accounts", "Our village committee in Suxi never publishes the village accounts.", "农村农业", "村务管理", "苏溪镇"),
    ("Stray dogs", "Stray dogs in Houzhai bit two children; there is no rabies vaccination.", "农村农业", "动物防疫", "后宅街道"),
    ("Elderly allowance", "My grandmother in Fotang has not received her old-age allowance and subsidy for the elderly.", "民政", "社会救助", "佛堂镇"),
    ("Veteran benefits", "As a veteran I was promised resettlement support that never came.", "民政", "复退安置", None),
    ("Broadband outage", "Broadband and mobile signal in Dachen drop every evening, the telecom company ignores us.", "科技与信息产业", "电信", "大陈镇"),
    ("Queue at service centre", "I waited three hours in the queue at the Administrative Service Center, only two windows open.", "政务服务", "排队等候与叫号", None),
    ("Rude staff", "The staff at the service window were rude and refused to explain what documents I need.", "政务服务", "工作人员态度", None),
    ("Had to come back four times", "I had to make multiple trips to submit the same documents for my business licence.", "政务服务", "多头跑与重复提交材料", None),
    ("Zheliban app crash", "The Zheliban app crashes at face recognition, I cannot log in for two days.", "政务服务", "线上办事故障", None),
    ("Application overdue", "My application was promised in 5 working days and is now 3 weeks overdue.", "政务服务", "办理时限", None),
    ("Ticket machine broken", "The queue ticket machine at the hall in Choucheng was broken and nobody called numbers.", "政务服务", "排队等候与叫号", "稠城街道"),
    ("Work permit for foreigners", "Getting a work permit as a foreigner requires going to three offices with the same papers.", "政务服务", "多头跑与重复提交材料", None),
]
# fmt: on


def in_sample_leads() -> list[Lead]:
    """The in-sample leads with the department their level-2 class routes to."""
    department_of = {(s.level1, s.name): s.department for s in load_taxonomy().subcategories}
    return [Lead(title, text, l1, l2, department_of[l1, l2], town) for title, text, l1, l2, town in LEADS]


def score(name: str, leads: list[Lead], categorizer: Categorizer, gazetteer: Gazetteer) -> tuple[dict, list[dict]]:
    rows, misses = [], []
    for lead in leads:
        got = categorizer.categorize(lead.title, lead.text)
        town = gazetteer.locate(f"{lead.title}\n{lead.text}").town
        row = {
            "level1": got.category == lead.level1, "department": got.department == lead.department,
            "place": town == lead.town, "has_place": lead.town is not None, "triage": got.needs_triage,
        }  # fmt: skip
        rows.append(row)
        kinds = [k for k, ok in (("category", row["level1"]), ("department", row["department"])) if not ok]
        if not row["place"]:
            kinds.append("place missed" if town is None else "wrong place" if lead.town else "place invented")
        if kinds:
            misses.append({"set": name, "title": lead.title, "miss": ", ".join(kinds),
                           "want": f"{lead.level1}/{lead.level2} {lead.department} {lead.town or '-'}",
                           "got": f"{got.category}/{got.subcategory} {got.department} {town or '-'}"
                                  f"{' (triage)' if got.needs_triage else ''}"})  # fmt: skip
    n, placed = len(rows), [r for r in rows if r["has_place"]]
    untriaged = [r for r in rows if not r["triage"]]
    summary = {
        "set": name,
        "leads": n,
        "category_accuracy": sum(r["level1"] for r in rows) / n,
        "department_accuracy": sum(r["department"] for r in rows) / n,
        "places_named": len(placed),
        "place_found_rate": sum(r["place"] for r in placed) / len(placed),
        "place_accuracy": sum(r["place"] for r in rows) / n,
        "needs_triage": sum(r["triage"] for r in rows) / n,
        "wrong_not_triaged": sum(not r["level1"] and not r["triage"] for r in rows) / n,
        "category_accuracy_untriaged": sum(r["level1"] for r in untriaged) / len(untriaged) if untriaged else None,
    }
    return summary, misses


def main() -> None:
    taxonomy, gazetteer = load_taxonomy(), load_gazetteer()
    categorizer = Categorizer(taxonomy)
    results = [score(name, leads, categorizer, gazetteer)
               for name, leads in (("in-sample", in_sample_leads()), ("held-out (blind)", HELDOUT))]  # fmt: skip
    summaries = [summary for summary, _ in results]
    misses = [miss for _, set_misses in results for miss in set_misses]
    print_table("English leads (rules only)", summaries)
    print_table("Misses", misses)
    write_json("english_quality", {"summary": summaries, "misses": misses})


if __name__ == "__main__":
    main()
