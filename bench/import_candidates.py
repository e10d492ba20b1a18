"""Candidate import bench (考生名单导入): 5,000 rows, all or nothing, under 5 seconds.

    .venv/bin/python bench/import_candidates.py [--rows 5000] [--no-http]

Builds a CSV of candidates with valid ID numbers (R-ID-1) and common Chinese
names, then on a fresh SQLite database (and on PostgreSQL, in a fresh schema,
when EXAMDAY_BENCH_POSTGRES_URL is set):

1. imports it with one bad row through the service: nothing may be imported
   and the answer must name the row;
2. imports the fixed file through the service, timed (target < 5 s);
3. imports it again into a second batch through HTTP (multipart upload), timed.

Exit status 1 when a check fails or an import takes 5 seconds or more.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, func, text
from sqlmodel import Session, select

from examday.actor import Actor
from examday.errors import Refusal
from examday.identity import make_id_number
from examday.models import metadata
from examday.plans.models import Batch, Candidate
from examday.plans.services import candidates as candidate_service
from examday.registry.models import Institution
from storage.db import make_engine

TARGET_SECONDS = 5.0
NOW = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武"
)
GIVEN = [
    "伟",
    "芳",
    "娜",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
    "平",
    "刚",
    "桂英",
    "建华",
    "志强",
    "晓东",
    "海燕",
    "文博",
    "子涵",
    "雨轩",
    "浩然",
    "思远",
    "欣怡",
    "梓萱",
    "俊杰",
    "佳怡",
    "宇航",
    "婷婷",
    "玉兰",
    "国强",
    "红梅",
    "建国",
    "春燕",
    "立新",
    "永刚",
    "淑珍",
    "德明",
    "丹丹",
    "鹏飞",
    "晓燕",
]
REGIONS = ("220102", "220104", "220203", "220581", "110105", "310104", "440106", "510107", "370102", "350203")
EMPLOYERS = [f"{c}机械厂" for c in "一二三四五六七八"] + ["长春轨道客车股份有限公司", "吉林化纤集团", "一汽解放"]
SCHOOLS = ["长春职业技术学院", "吉林工业职业技术学院", "长春市技工学校", "吉林省电力培训中心"]


def candidate_csv(rows: int, seed: int = 7, bad_row: int | None = None) -> bytes:
    """A UTF-8 (BOM) CSV as Excel's "CSV UTF-8" writes it; ``bad_row`` gets a wrong check digit."""
    rng = random.Random(seed)
    lines = ["姓名,身份证号,工作单位,培训机构,电话"]
    for i in range(rows):
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        female = bool(i % 2)
        # Distinct (birth date, order code) pairs: unique numbers for up to 12,000 x 499 rows.
        idn = make_id_number(
            date(1966, 1, 1) + timedelta(days=i % 12000),
            region=rng.choice(REGIONS),
            seq=(i // 12000) % 499 + 1,
            female=female,
        )
        if bad_row is not None and i + 2 == bad_row:
            idn = idn[:17] + ("0" if idn[17] != "0" else "1")
        lines.append(
            f"{name},{idn},{rng.choice(EMPLOYERS)},{rng.choice(SCHOOLS)},1{rng.randint(3, 9)}{rng.randint(0, 10**9 - 1):09d}"
        )
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


def setup(engine) -> tuple[int, list[int], Actor]:
    with Session(engine, expire_on_commit=False) as db:
        inst = Institution(name="长春示范职业技能评价中心", uscc="91350200776049653A", province="吉林", created_at=NOW)
        db.add(inst)
        db.flush()
        batches = [
            Batch(
                institution_id=inst.id,
                occupation_code="6-31-01-03",
                occupation_name="电工",
                level=4,
                exam_date=date(2026, 12, 14),
                parts="theory,skill",
                status="draft",
                created_at=NOW,
            )
            for _ in range(2)
        ]
        db.add_all(batches)
        db.commit()
        return inst.id, [b.id for b in batches], Actor(None, "bench-office", "admin", inst.id)


def count(engine, bid: int) -> int:
    with Session(engine) as db:
        return db.exec(select(func.count()).select_from(Candidate).where(Candidate.batch_id == bid)).one()


def via_service(engine, actor: Actor, bid: int, content: bytes) -> tuple[float, dict | Refusal]:
    start = time.perf_counter()
    with Session(engine, expire_on_commit=False) as db:
        try:
            result = candidate_service.import_candidates(db, actor, NOW, bid, content, "candidates.csv")
        except Refusal as r:
            db.rollback()
            return time.perf_counter() - start, r
        db.commit()
    return time.perf_counter() - start, result


def via_http(url: str, data_dir: Path, bid: int, iid: int, content: bytes) -> tuple[float, int, dict]:
    from litestar.testing import TestClient

    logging.getLogger("httpx").setLevel(logging.WARNING)

    from examday.accounts.services.accounts import create_account, issue_token
    from examday.actor import SYSTEM
    from examday.app import create_app
    from examday.clock import FixedClock
    from examday.settings import Settings

    settings = Settings(
        database_url=url,
        data_dir=data_dir,
        hook_secret="bench",
        secret_key="bench",
        password_time_cost=1,
        password_memory_kib=1024,
    ).resolved()
    app = create_app(settings, FixedClock(NOW))
    with Session(app.state.engine, expire_on_commit=False) as db:
        acc = create_account(db, SYSTEM, NOW, app.state.passwords, f"bench-{uuid.uuid4().hex[:6]}", "admin", iid)
        token = issue_token(db, acc, NOW, by=SYSTEM)
        db.commit()
    with TestClient(app) as client:
        start = time.perf_counter()
        r = client.post(
            f"/api/v1/batches/{bid}/candidates",
            headers={"Authorization": f"Bearer {token}"},
            files={"file": ("candidates.csv", content, "text/csv")},
        )
        took = time.perf_counter() - start
    app.state.engine.dispose()
    return took, r.status_code, r.json()


def run(label: str, url: str, rows: int, http: bool, data_dir: Path) -> bool:
    print(f"\n== {label}: {rows} rows ==")
    engine = make_engine(url)
    metadata.create_all(engine)
    iid, (first, second), actor = setup(engine)
    ok = True

    bad_row = rows // 2 + 1
    took, result = via_service(engine, actor, first, candidate_csv(rows, bad_row=bad_row))
    imported = count(engine, first)
    if isinstance(result, Refusal) and imported == 0 and result.detail.get("rows") == [bad_row]:
        e = result.detail["errors"][0]
        print(
            f"one bad row : refused in {took:.2f} s, {imported} imported; reported row {e['row']} "
            f"column {e['column']} ({e['code']}: {e['message_en']})"
        )
    else:
        print(f"one bad row : FAILED — {imported} imported, answer {result!r}")
        ok = False

    content = candidate_csv(rows)
    took, result = via_service(engine, actor, first, content)
    imported = count(engine, first)
    good = isinstance(result, dict) and imported == rows
    ok &= good and took < TARGET_SECONDS
    print(
        f"fixed file  : {imported} imported through the service in {took:.2f} s "
        f"({'OK' if good and took < TARGET_SECONDS else 'FAILED'}; target < {TARGET_SECONDS:.0f} s, "
        f"{len(content) / 1024:.0f} KiB)"
    )
    engine.dispose()

    if http:
        took, status, body = via_http(url, data_dir, second, iid, content)
        good = status == 200 and body.get("imported") == rows
        ok &= good and took < TARGET_SECONDS
        print(
            f"over HTTP   : HTTP {status}, {body.get('imported')} imported in {took:.2f} s "
            f"({'OK' if good and took < TARGET_SECONDS else 'FAILED'})"
        )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--no-http", action="store_true", help="skip the multipart upload through the app")
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory(prefix="examday-bench-") as tmp:
        ok &= run("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", args.rows, not args.no_http, Path(tmp) / "data")
    pg = os.environ.get("EXAMDAY_BENCH_POSTGRES_URL")
    if pg:
        base = "postgresql+psycopg://" + pg[len("postgresql://") :] if pg.startswith("postgresql://") else pg
        schema = f"examday_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f"CREATE SCHEMA {schema}"))
        try:
            url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
            with tempfile.TemporaryDirectory(prefix="examday-bench-") as tmp:
                ok &= run("PostgreSQL", url, args.rows, not args.no_http, Path(tmp) / "data")
        finally:
            with admin.connect() as c:
                c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()
    print("\nresult:", "OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
