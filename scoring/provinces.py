"""Province names to GB/T 2260 province-level codes, for certificate numbers (R-FMT-CERT)."""

from __future__ import annotations

PROVINCE_CODES = {
    "北京": "11",
    "天津": "12",
    "河北": "13",
    "山西": "14",
    "内蒙古": "15",
    "辽宁": "21",
    "吉林": "22",
    "黑龙江": "23",
    "上海": "31",
    "江苏": "32",
    "浙江": "33",
    "安徽": "34",
    "福建": "35",
    "江西": "36",
    "山东": "37",
    "河南": "41",
    "湖北": "42",
    "湖南": "43",
    "广东": "44",
    "广西": "45",
    "海南": "46",
    "重庆": "50",
    "四川": "51",
    "贵州": "52",
    "云南": "53",
    "西藏": "54",
    "陕西": "61",
    "甘肃": "62",
    "青海": "63",
    "宁夏": "64",
    "新疆": "65",
}
_SUFFIXES = ("省", "市", "自治区", "壮族自治区", "回族自治区", "维吾尔自治区")


def province_code(name: str | None) -> str | None:
    """The code of a province written as 吉林, 吉林省 or 广西壮族自治区; None when unknown."""
    text = (name or "").strip()
    if text in PROVINCE_CODES:
        return PROVINCE_CODES[text]
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if text.endswith(suffix) and text[: -len(suffix)] in PROVINCE_CODES:
            return PROVINCE_CODES[text[: -len(suffix)]]
    return None
