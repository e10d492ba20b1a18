"""Provinces (省份) of mainland China, and the one way their names are compared.

An account may say "吉林省" where the institution says "吉林": both name the
same province, so every comparison goes through :func:`normalise_province`
(R-INST-1 stores institutions' provinces normalised; accounts and older rows
may not be).
"""

from __future__ import annotations

import unicodedata

PROVINCES = (
    "北京",
    "天津",
    "河北",
    "山西",
    "内蒙古",
    "辽宁",
    "吉林",
    "黑龙江",
    "上海",
    "江苏",
    "浙江",
    "安徽",
    "福建",
    "江西",
    "山东",
    "河南",
    "湖北",
    "湖南",
    "广东",
    "广西",
    "海南",
    "重庆",
    "四川",
    "贵州",
    "云南",
    "西藏",
    "陕西",
    "甘肃",
    "青海",
    "宁夏",
    "新疆",
    "新疆生产建设兵团",
)
_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市")


def normalise_province(text: str | None) -> str | None:
    """'吉林省' → '吉林', '广西壮族自治区' → '广西'; None when it names no province."""
    name = unicodedata.normalize("NFKC", text or "").strip()
    if name in PROVINCES:
        return name
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and name[: -len(suffix)] in PROVINCES:
            return name[: -len(suffix)]
    return None
