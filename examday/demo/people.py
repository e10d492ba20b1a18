"""The demo's candidates: believable names, valid ID numbers, employers and training schools.

Electricians in Jilin: mostly men in their twenties to forties, born in
Changchun's districts and the towns around it, sent by local employers and
trained at the city's technical schools. Names follow the common surnames'
frequency, with one- and two-character given names, matched to the sex that
the ID number's order code carries (R-ID-1).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from examday.identity import make_id_number

# Common surnames, most frequent first; the weights fall off roughly as in the census.
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
_SURNAME_WEIGHTS = [max(1.0, 8.0 - i * 0.35) for i in range(len(SURNAMES))]
MALE_GIVEN = [
    "伟",
    "磊",
    "勇",
    "军",
    "杰",
    "涛",
    "强",
    "鹏",
    "超",
    "浩",
    "宇",
    "斌",
    "亮",
    "刚",
    "峰",
    "鑫",
    "志强",
    "建华",
    "海涛",
    "国庆",
    "晓东",
    "文博",
    "宇轩",
    "浩然",
    "俊杰",
    "明轩",
    "天佑",
    "一鸣",
    "振宇",
    "德胜",
    "春雷",
    "立新",
    "永刚",
    "洪亮",
    "思远",
    "子豪",
    "博文",
    "家乐",
    "长江",
    "铁军",
    "景涛",
    "庆丰",
    "学军",
    "玉林",
    "宏伟",
    "成龙",
    "昊天",
    "嘉豪",
]
FEMALE_GIVEN = [
    "丽",
    "敏",
    "静",
    "燕",
    "娜",
    "颖",
    "欣怡",
    "秀兰",
    "海燕",
    "丽娟",
    "春梅",
    "佳琪",
    "雨桐",
    "静怡",
    "梓萱",
    "诗涵",
    "晓雪",
    "玉梅",
    "淑芬",
    "红霞",
]
# Changchun's districts and county towns (GB/T 2260): where a Changchun candidate was born.
REGIONS = [
    "220102",
    "220103",
    "220104",
    "220105",
    "220106",
    "220112",
    "220113",
    "220182",
    "220183",
    "220184",
    "220122",
    "220202",
    "220281",
    "220702",
]
EMPLOYERS = [
    "长春一汽配套电器厂",
    "国网长春供电公司",
    "长春轨道客车装备公司",
    "吉林化纤集团电气车间",
    "长春市建筑安装工程公司",
    "吉林省电力检修公司",
    "长春经开区物业服务公司",
    "长春燃气热力设备厂",
    "一汽解放动力总成车间",
    "长春新区城市建设集团",
    "个体",
]
TRAINING = ["长春市技工学校", "吉林工程技师学院", "长春职业技能培训中心", "吉林省电力职业技能培训学校"]
PHONE_PREFIXES = [
    "130",
    "131",
    "132",
    "135",
    "136",
    "138",
    "139",
    "150",
    "151",
    "155",
    "156",
    "157",
    "158",
    "176",
    "177",
    "185",
    "186",
    "187",
    "188",
    "189",
    "199",
]


def person(rng: random.Random, female: bool) -> str:
    surname = rng.choices(SURNAMES, weights=_SURNAME_WEIGHTS)[0]
    return surname + rng.choice(FEMALE_GIVEN if female else MALE_GIVEN)


def candidates(n: int, seed: int, exam_day: date, female_share: float = 0.12) -> list[dict[str, str]]:
    """``n`` distinct candidates aged about 19 to 52 on the exam day, reproducible from ``seed``."""
    rng = random.Random(seed)
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    earliest, span = date(exam_day.year - 52, 1, 1), 365 * 33
    while len(out) < n:
        female = rng.random() < female_share
        born = earliest + timedelta(days=rng.randrange(span))
        number = make_id_number(born, region=rng.choice(REGIONS), seq=rng.randrange(1, 499), female=female)
        if number in seen:
            continue
        seen.add(number)
        out.append(
            {
                "name": person(rng, female),
                "id_number": number,
                "employer": rng.choice(EMPLOYERS),
                "training_org": rng.choice(TRAINING),
                "phone": rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}",
            }
        )
    return out


def candidates_csv(n: int, seed: int, exam_day: date) -> bytes:
    """The registration list as an exam office exports it from its spreadsheet (UTF-8 CSV)."""
    lines = ["name,id_number,employer,training_org,phone"]
    lines += [
        ",".join(c[k] for k in ("name", "id_number", "employer", "training_org", "phone"))
        for c in candidates(n, seed, exam_day)
    ]
    return ("\n".join(lines) + "\n").encode()


def stranger_id_number(rng: random.Random, not_this: str) -> str:
    """A valid ID number that is not ``not_this``: someone else's card shown with the ticket (id_mismatch)."""
    while True:
        born = date(1970, 1, 1) + timedelta(days=rng.randrange(365 * 35))
        number = make_id_number(born, region=rng.choice(REGIONS), seq=rng.randrange(1, 499), female=False)
        if number != not_this:
            return number
