"""A held-out set of English leads, written BLIND on 2026-12-07 for benchmarks/english_quality.py.

Written without reading the English keywords or place aliases in enrichers/data (taxonomy.yaml,
gazetteer.yaml) or the 64 in-sample leads in benchmarks/english_quality.py: only the taxonomy's
category, level-2 and department names and the gazetteer's 14 town names were looked at. The texts
imitate what foreign residents of Yiwu (traders, teachers, students, shop owners) send to a city
service: varied length and tone, typos, non-native phrasing, places as pinyin, misspelt pinyin,
landmarks ("Futian market", "Binwang", "Fotang old town") or no place at all, and some foreign or
non-Yiwu place names that must not be taken for a town.

Labels are what a Yiwu 12345 dispatcher would decide: the level-1 class, the level-2 class and the
department it is sent to, and the town (街道/镇) the text puts the matter in, or None when the text
names none a dispatcher could place (a bare "Yiwu", a road that crosses towns, a home country).
Landmark-to-town labels use general knowledge of Yiwu: the International Trade City / Futian market
is in 福田街道, Binwang market and Xiuhu park in 稠城街道, Yiwu airport in 北苑街道.

One label was corrected after the first run, as a fact and not to fit the rules: the airport taxi
lead was labelled 稠江街道 from memory; published descriptions put Yiwu airport in 北苑街道 (the
gazetteer agrees). The locator finds no town in that lead either way.

Do not tune enrichers/data to these texts: once the rules are written while reading them, this set
is in-sample too and a new blind set is needed.
"""

from __future__ import annotations

from typing import NamedTuple


class Lead(NamedTuple):
    title: str
    text: str
    level1: str
    level2: str
    department: str
    town: str | None


# fmt: off
LEADS: list[Lead] = [
    # --- 政法 (public security, traffic police, justice, courts) ---
    Lead("Visa extension", "Hello, my residence permit finish next month. I went to exit-entry office two times and they say "
         "I need new paper from company but company already closed. What I can do? I am from Pakistan, trader.",
         "政法", "户籍证件", "市公安局", None),
    Lead("Landlord not register me", "My landlord in Beiyuan refuse to do the temporary residence registration for me, "
         "he says is not his job. Now police say I will get fine. please help",
         "政法", "户籍证件", "市公安局", "北苑街道"),
    Lead("lost passport", "I lost my passport yesterday probably in taxi. Where I report it to get the loss certificate "
         "for embassy? Nobody at police station speak english",
         "政法", "户籍证件", "市公安局", None),
    Lead("Electric bike stolen", "Third time this year my e-bike stolen from parking in front of our building in Jiangdong. "
         "CCTV camera there is broken. The security guard does nothing.",
         "政法", "社会治安", "市公安局", "江东街道"),
    Lead("Scam call", "Someone called me speaking english and say my package has drugs and I must transfer money to "
         "safe account. I transferred 20000 RMB. I think it is fraud. Please help get my money back",
         "政法", "刑案侦破", "市公安局", None),
    Lead("Fight at night", "Every weekend drunk people fighting outside the bars on the street near Binwang market, "
         "shouting until 3am, one time broken bottles everywhere. Need more police patrol please.",
         "政法", "社会治安", "市公安局", "稠城街道"),
    Lead("Driving license", "How can I change my Egyptian driving licence to Chinese one? Vehicle office tell me the "
         "theory exam is only in chinese. Is there english version of the test in Yiwu?",
         "政法", "交通管理", "市公安局交通警察大队", None),
    Lead("traffic light", "The traffic light at crossing near our school in Chengxi is not working since 1 week, "
         "cars go very fast and kids cross there every morning. Very dangerous!!!",
         "政法", "交通管理", "市公安局交通警察大队", "城西街道"),
    Lead("Cars on sidewalk", "cars park on the footpath all along our street so my wife must walk with the baby stroller "
         "on the road. Traffic police never come. Houzhai.",
         "政法", "交通管理", "市公安局交通警察大队", "后宅街道"),
    Lead("Police officer behavior", "The officer at the counter shouted at me and threw my documents on the table "
         "because my chinese is bad. I want to complain about this police man, I have his number.",
         "政法", "警务督察", "市公安局", None),
    Lead("need lawyer", "My chinese partner took my goods and my money and disappear. I want to sue him but I cant "
         "pay big lawyer. Is there free legal aid for foreigners? Also need translator for court papers.",
         "政法", "法律服务", "市司法局", None),
    Lead("Dispute with supplier", "We have a dispute with a factory in Dachen about 3000 shirts with wrong size. Both sides "
         "agree to try mediation. Does the city have a mediation center where foreigners can go with interpreter?",
         "政法", "仲裁与调解", "市司法局", "大陈镇"),
    Lead("court decision not executed", "I won the case against the company one year ago, court said they must pay me "
         "85,000 RMB. Until now nothing paid and the judge does not answer. What is happening with enforcement?",
         "政法", "诉讼", "市人民法院", None),
    # --- 劳动和社会保障 ---
    Lead("salary not paid", "I am english teacher in a training center in Choucheng. They did not pay me for 3 months, "
         "the boss always say next week. Other 4 foreign teachers same problem.",
         "劳动和社会保障", "工资福利", "市人力资源和社会保障局", "稠城街道"),
    Lead("Fired without reason", "Company terminated my contract without notice and without compensation after I was "
         "sick 2 weeks. I have signed contract for 2 years. Is this legal in China?",
         "劳动和社会保障", "劳动关系", "市人力资源和社会保障局", None),
    Lead("Social insurance", "Kindly advice, my employer deduct social insurance from my salary every month but when I "
         "check on the app there is nothing paid for me. Kindly do the needful.",
         "劳动和社会保障", "城镇职工社会保险", "市人力资源和社会保障局", None),
    Lead("Accident in factory", "My friend from Bangladesh cut his hand on machine in a factory in Suxi. No gloves, no "
         "guard on the machine, boss say he pays nothing for hospital. Workers have no safety training.",
         "劳动和社会保障", "劳动保护", "市人力资源和社会保障局", "苏溪镇"),
    Lead("Jobs for foreign graduates", "I finish my master degree in Zhejiang and want to work in Yiwu. Is there job fair "
         "or training program for foreign graduates? How to get work permit after study?",
         "劳动和社会保障", "就业培训", "市人力资源和社会保障局", None),
    Lead("Social insurance refund", "I am leaving China for good. How can I withdraw my pension account money that I paid "
         "5 years? The office say foreigner can not, but my friend did it in other city.",
         "劳动和社会保障", "社保基金管理", "市人力资源和社会保障局", None),
    # --- 商贸旅游 ---
    Lead("Fake goods", "I bought 200 cartons of phone chargers from a shop in International Trade City district 4. "
         "Half of them burn when used, the CE mark is fake. Shop owner now say not his problem.",
         "商贸旅游", "市场监管", "市市场监督管理局", "福田街道"),
    Lead("No price", "shops in futian markt give different price for foreigners, 3 times more. no price label. "
         "this is not fair trade",
         "商贸旅游", "市场监管", "市市场监督管理局", "福田街道"),
    Lead("Export inspection", "Our customer in Chile ask for inspection certificate for toys. Where in Yiwu we can make "
         "the quality inspection and quarantine for export? Agent asks too much money.",
         "商贸旅游", "质监检验检疫", "市市场监督管理局", None),
    Lead("Trade fair booth", "We are small company from Kenya and we want a booth at the Yiwu fair in October. The "
         "organiser never reply email. Also are there support policy for african importers?",
         "商贸旅游", "商业贸易", "市商务局", None),
    Lead("Tour in Fotang", "We took a tour to Fotang old town with a travel agency, guide forced us to buy tea in a shop "
         "and was very rude when we refuse. The tour price was also higher than the paper said.",
         "商贸旅游", "旅游管理", "市文化和广电旅游体育局", "佛堂镇"),
    Lead("Shop closed, deposit", "I paid deposit to a trading company for container of kitchen items, now office closed and "
         "phone off. Many foreign buyers in same situation. Government must control these export agents.",
         "商贸旅游", "商业贸易", "市商务局", None),
    # --- 卫生计生 ---
    Lead("Food poisoning", "Yesterday we ate at the restaurant next to Xiuhu park, 5 of us had diarrhea and vomit at night. "
         "The kitchen is very dirty I saw rats. Please inspect this restaurant.",
         "卫生计生", "食品药品监管", "市市场监督管理局", "稠城街道"),
    Lead("expired medicine", "pharmacy sold me antibiotics expired since 6 months. I only notice at home. "
         "When I go back they laugh.",
         "卫生计生", "食品药品监管", "市市场监督管理局", None),
    Lead("Hospital bill", "My son had small surgery in hospital. They charged us double, many items in bill we never got. "
         "Doctor said it was mistake but cashier refuse to return. We want explanation.",
         "卫生计生", "医患纠纷", "市卫生健康局", None),
    Lead("No english at hospital", "Is there any hospital in Yiwu with english speaking doctor? Emergency room had no one "
         "who can understand my wife, she was in pain for hours. Hospital should have interpreter service.",
         "卫生计生", "医政监管", "市卫生健康局", None),
    Lead("Vaccine for my baby", "My daughter is 2 month, born in Yiwu. Where can foreigner family get the free vaccines "
         "for baby? Community health center in Niansanli say we are not in the system.",
         "卫生计生", "公共卫生", "市卫生健康局", "廿三里街道"),
    # --- 教育文体 ---
    Lead("School for my kids", "We moved from Jordan and my two kids (7 and 9 y) cannot enter public school, they say "
         "only for hukou. International school too expensive. What are rules for foreign children education?",
         "教育文体", "教育行政管理", "市教育局", None),
    Lead("Kindergarten fee", "Kindergarten in Choujiang increase the fee 40% in middle of semester without any notice "
         "to parents. Also extra charge for 'english class' which is not given. Is this allowed?",
         "教育文体", "教育收费", "市教育局", "稠江街道"),
    Lead("HSK exam", "I want to register HSK 5 exam but the test center website show full for all dates till next year. "
         "Please open more exam seats in yiwu, many students need it for university.",
         "教育文体", "考试招生", "市教育局", None),
    Lead("foreign teacher contract", "I teach english at public middle school, the school cut our housing allowance "
         "and we teach 25 hours instead 18 like contract say. Who control the teachers conditions?",
         "教育文体", "教师队伍和待遇", "市教育局", None),
    Lead("Football field", "The public football pitch in Beiyuan is always locked in the evening, and weekend only for "
         "people who pay. We are a team of african and chinese friends, we need place to play.",
         "教育文体", "体育", "市文化和广电旅游体育局", "北苑街道"),
    Lead("Library card", "Can foreigners get a card for the city library with passport? They asked for ID card only. "
         "Also would be nice to have more books in english and arabic.",
         "教育文体", "文化", "市文化和广电旅游体育局", None),
    # --- 城乡建设 ---
    Lead("Street lights", "Street lamps on our road in Yiting all dark for 2 weeks. Women afraid to walk home from bus stop.",
         "城乡建设", "城市建设和市政管理", "市综合行政执法局", "义亭镇"),
    Lead("Hole in road", "big hole in the road in front of my shop, cover of the drain missing. Yesterday a man on "
         "scooter fall inside. Please fix fast before somebody die",
         "城乡建设", "城市建设和市政管理", "市综合行政执法局", None),
    Lead("Street vendors", "Food sellers with carts block the whole pavement near the entrance of Futian market every "
         "evening, smoke and oil everywhere, customers can not pass to our shop.",
         "城乡建设", "城市建设和市政管理", "市综合行政执法局", "福田街道"),
    Lead("Rubbish", "Garbage bins in our compound in Chian town not emptied for 10 days, smell is terrible and there are "
         "many flies. Who is responsible?",
         "城乡建设", "城市建设和市政管理", "市综合行政执法局", "赤岸镇"),
    Lead("Property management", "The elevator in our building is broken for one month, I live on 18th floor with old "
         "mother. Property management company takes fee every year but do nothing.",
         "城乡建设", "住房保障与房地产", "市住房和城乡建设局", None),
    Lead("Deposit not returned", "Landlord keep my 2 month rent deposit after I moved out, he say the wall is dirty. "
         "The apartment was agent rented. Is there any office for rental disputes?",
         "城乡建设", "住房保障与房地产", "市住房和城乡建设局", None),
    Lead("Cracks in new flat", "We bought apartment in new building in Jiangdong, after 6 months big cracks in walls and "
         "water coming through the ceiling when rain. Developer say it is normal.",
         "城乡建设", "工程质量", "市住房和城乡建设局", "江东街道"),
    Lead("Demolition of my shop", "Government will demolish the old street in Choucheng where I rent shop 8 years. "
         "Owner gets compensation but tenants nothing, I have decoration and stock. Is there compensation for tenant?",
         "城乡建设", "国有土地上房屋征收与补偿", "市住房和城乡建设局", "稠城街道"),
    # --- 环境保护 ---
    Lead("Smell from factory", "A factory near our village in Shangxi burning plastic at night, black smoke and the smell "
         "come into the house, my kids cough all the time.",
         "环境保护", "环境污染", "金华市生态环境局义乌分局", "上溪镇"),
    Lead("Construction noise", "construction site next to our apartment work all night with heavy machines, "
         "11pm, 2am, 4am. we can not sleep for weeks. Is it allowed to build at night???",
         "环境保护", "环境污染", "金华市生态环境局义乌分局", None),
    Lead("River is dirty", "The small river behind the warehouses in Houzhai change color every day, blue one day red "
         "next day. I think dye factory put water inside. Fish all dead.",
         "环境保护", "环境污染", "金华市生态环境局义乌分局", "后宅街道"),
    # --- 交通运输 ---
    Lead("Taxi", "Taxi from airport refuse use meter and ask 150 yuan to city center. When I say no he put my bags out. "
         "Plate number is on the photo.",
         "交通运输", "出租车管理", "市交通运输局", "北苑街道"),
    Lead("Bus", "Bus number 8 very often not stopping at my stop, driver just pass. also bus comes every 40 min not "
         "15 like on the sign.",
         "交通运输", "交通运输", "市交通运输局", None),
    Lead("Parcel lost", "Express company lost my parcel with samples for customer, they say they will pay only 20 RMB "
         "but inside value is 3000. Tracking stop in Yiwu sorting center since 10 days.",
         "交通运输", "邮政管理", "市邮政管理局", None),
    Lead("Black cars", "Illegal cars without license waiting at the train station, they pull foreigners and ask crazy "
         "price. Also trucks park on the bus stop.",
         "交通运输", "客货运输", "市交通运输局", None),
    Lead("Road work too slow", "The road between Fotang and Chi'an is under construction since 2 years, only one lane, "
         "traffic jam every day with trucks. When will it finish?",
         "交通运输", "建设管理", "市交通运输局", None),
    # --- 经济管理 ---
    Lead("Bank account", "Bank refused to open account for me because I am from Yemen, they say system don't allow. "
         "Without account I can't receive payment from my customers. This is discrimination.",
         "经济管理", "金融财税", "市财政局", None),
    Lead("Tax invoice", "My company needs fapiao for export tax rebate but the tax office say my documents not correct "
         "3 times, each time different reason. How long the tax refund for export take?",
         "经济管理", "金融财税", "市财政局", None),
    Lead("Power cuts", "Electricity is cut 2-3 times every week at our small factory in Dachen without any notice, "
         "machines damaged and orders late. Power company say nothing.",
         "经济管理", "能源管理", "市发展和改革局", "大陈镇"),
    Lead("fire danger warehouse", "The building where I live, ground floor is warehouse full of plastic toys and "
         "the workers smoke inside. Fire exit is locked with chain. If fire, everybody dies. Please check.",
         "经济管理", "安全生产", "市应急管理局", None),
    Lead("Insurance claim", "Insurance company not paying my car accident claim for 4 months, they ask again and again "
         "for documents in chinese which I already gave.",
         "经济管理", "保险证券期货", "市金融工作中心", None),
    # --- 科技与信息产业 ---
    Lead("Phone signal", "No mobile signal inside our building in Futian, we have to go to the street for calls. "
         "Telecom company promised to install antenna, nothing happened.",
         "科技与信息产业", "电信", "市经济和信息化局", "福田街道"),
    Lead("SIM card", "I cannot buy SIM card with my passport, three shops said system does not accept foreign passport "
         "number. Without phone number I cannot use any app.",
         "科技与信息产业", "电信", "市经济和信息化局", None),
    Lead("My design copied", "I designed my own brand of hair accessories and registered trademark. Now 4 shops in the "
         "market sell copies with my logo, cheaper. How can I protect my intellectual property?",
         "科技与信息产业", "知识产权", "市市场监督管理局", None),
    # --- 民政 ---
    Lead("Marriage registration", "I am Nigerian and my fiance is chinese from Yiwu. What documents we need to register "
         "our marriage here? The office sent us away 2 times.",
         "民政", "社会服务", "市民政局", None),
    Lead("Foreign community association", "We are group of Syrian traders, we want to register a non-profit association "
         "to help our community and do charity. What is procedure for social organization?",
         "民政", "民间组织", "市民政局", None),
    Lead("Old neighbour alone", "Old lady in our building in Chengxi live alone, she is sick and has no food sometimes, "
         "no family come. Can the community or government help her?",
         "民政", "社会救助", "市民政局", "城西街道"),
    Lead("Donation", "Foreign merchants in Yiwu want to donate money and blankets for families hit by the flood. "
         "Which official channel we can use so the donation reach people?",
         "民政", "救灾募捐", "市民政局", None),
    # --- 党务政务 ---
    Lead("Invitation letter", "Our buyers from Ghana cannot get business visa because they need invitation letter. "
         "Which office in yiwu can issue the invitation for foreign businessmen?",
         "党务政务", "国防外交", "市外事办公室", None),
    Lead("Place for prayer", "Muslim traders in Yiwu are many, the mosque is too small for friday prayer, people pray "
         "on the street. Can the city allow more space?",
         "党务政务", "民族宗教", "市委统战部", None),
    # --- 国土资源 ---
    Lead("Building on farmland", "My wife's family village in Yiting, someone is building big warehouse on the farm "
         "land, villagers say no permit. Land is being destroyed.",
         "国土资源", "土地资源管理", "市自然资源和规划局", "义亭镇"),
    Lead("Typhoon warning", "Weather warnings for typhoon and heavy rain only come in chinese on the phone. "
         "Please send also in english, last time we didn't know and our goods got wet.",
         "国土资源", "海洋气象地震", "市气象局", None),
    # --- 纪检监察 ---
    Lead("Asked for money", "An official in the market administration told me I must give him 'red envelope' 5000 to "
         "get my shop license faster. I don't want to pay bribe. Where to report corruption?",
         "纪检监察", "贪污贿赂", "市纪委市监委", None),
    Lead("officials playing phone", "went to village office in Suxi 3 times in working hours, the staff was sleeping "
         "or playing games on phone and told me to come back tomorrow. Bad attitude of cadres",
         "纪检监察", "干部作风", "市纪委市监委", "苏溪镇"),
    # --- 农村农业 ---
    Lead("Dead pigs", "Somebody throw dead pigs in the stream near Chi an, very bad smell. Maybe disease? "
         "Farmers say it happen before.",
         "农村农业", "动物防疫", "市农业农村局", "赤岸镇"),
    # --- 政务服务 ---
    Lead("Rude staff at service center", "Staff at the administrative service center window was very rude, said "
         "'no english, go away' and served chinese people before me although I had number.",
         "政务服务", "工作人员态度", "市行政服务中心", None),
    Lead("App not working", "The government service app do not accept passport number for login, only chinese ID. "
         "So foreigners can not apply anything online. Please fix.",
         "政务服务", "线上办事故障", "市政务服务管理办公室", None),
    Lead("Business license", "To register my trading company I went to tax, bank, market bureau and again tax, every "
         "office want the same documents translated and stamped again. One window please!",
         "政务服务", "多头跑与重复提交材料", "市政务服务管理办公室", None),
    Lead("Waiting too long", "I applied change of company address 6 weeks ago, they said 10 working days. "
         "Every time I call, still processing.",
         "政务服务", "办理时限", "市政务服务管理办公室", None),
    Lead("long queue", "queue at the service hall in Yiwu was 3 hours today, only 2 windows open out of 12, "
         "number machine gave numbers but screen was not calling.",
         "政务服务", "排队等候与叫号", "市行政服务中心", None),
]
# fmt: on
