"""Seeded synthetic webcam frames of admission tickets (准考证) for the QR bench.

Each sample renders an A6 paper ticket (or a phone showing one), places it in a
1280x720 scene through a pinhole-camera homography and then runs it through a
crude webcam model: lens blur, sensor noise, MJPEG compression.  A "kind" picks
which degradation is pushed beyond that baseline.

Kinds in REALISTIC are what the door will actually see and count toward the
decode target; kinds in EXTREME are there to show where decoding falls off and
are reported separately.
"""

from __future__ import annotations

import base64
import functools
import os

import cv2
import numpy as np
import zxingcpp
from PIL import Image, ImageDraw, ImageFont

FRAME_W, FRAME_H = 1280, 720
REALISTIC = ("clean", "rotate", "tilt", "crumple", "blur", "lowlight", "glare", "jpeg", "small", "phone", "combo")
EXTREME = ("crumple_heavy", "hard", "tiny")
KINDS = REALISTIC + EXTREME

# A6 landscape at 8 px/mm: fine enough that the later downscale, not the
# rendering, sets the module edges.
TICKET_W, TICKET_H = 1184, 840
# 33 mm; examday/plans/ticket_render.py prints 58 mm.  Only the print around the
# code changes with this: its size in the frame is set per kind.
QR_SIDE = 264
FOCAL = 1000.0  # px; typical for a 720p webcam with a ~65° horizontal FOV

_FONT_PATHS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
)


@functools.cache
def _font(size: int):
    path = next((p for p in _FONT_PATHS if os.path.exists(p)), None)
    # Without a CJK font the labels render as boxes; the layout still gives
    # the decoder the same kind of clutter, which is what matters.
    return ImageFont.truetype(path, size) if path else ImageFont.load_default(size)


def make_token(rng: np.random.Generator) -> str:
    """Random stand-in for examday/ticket_token.py's signed token: same
    prefix and alphabet, 111-138 chars (real ones run ~125-136)."""
    raw = rng.bytes(int(rng.integers(80, 101)))
    return "EX1." + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@functools.lru_cache(maxsize=64)
def qr_matrix(text: str) -> np.ndarray:
    # Same encoder and level as examday/plans/ticket_render.py prints (zxing-cpp,
    # level M): a 110-140 char token lands at version 7-8 (45-49 modules).
    # The qrcode package gives the same symbol but its mask search is pure
    # Python and was a third of the time per frame.
    code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    return np.asarray(code.to_image(scale=1, add_quiet_zones=False)) < 128


def _qr_image(text: str, side: int, ink=30, paper=245) -> np.ndarray:
    m = qr_matrix(text)
    img = np.where(m, ink, paper).astype(np.uint8)
    return cv2.resize(img, (side, side), interpolation=cv2.INTER_NEAREST)


_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
_SUBJECTS = (
    "电工（四级）",
    "焊工（三级）",
    "育婴员（五级）",
    "保育师（四级）",
    "中式烹调师（四级）",
    "车工（三级）",
    "网络与信息安全管理员",
)


def _square(x0, y0, side):
    return np.float32([[x0, y0], [x0 + side, y0], [x0 + side, y0 + side], [x0, y0 + side]])


def render_ticket(token: str | None, rng: np.random.Generator):
    """Returns (BGR ticket image, 4x2 QR corner array in ticket px or None)."""
    out = _layout(int(rng.integers(0, _N_LAYOUTS))).copy()
    if token is None:
        return out, None
    x0, y0 = 870, 200
    qr = _qr_image(token, QR_SIDE)
    out[y0 : y0 + QR_SIDE, x0 : x0 + QR_SIDE] = qr[..., None]
    cv2.putText(
        out,
        "Scan at check-in",
        (x0 + 8, y0 + QR_SIDE + 60),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.9,
        (30, 30, 30),
        2,
        cv2.LINE_AA,
    )
    return out, _square(x0, y0, QR_SIDE)


# Text rendering is the slow part of a ticket and the decoder only cares that
# there is print around the code, so a few layouts are drawn once and reused.
_N_LAYOUTS = 12


@functools.lru_cache(maxsize=_N_LAYOUTS)
def _layout(index: int) -> np.ndarray:
    rng = np.random.default_rng([4242, index])
    paper = tuple(int(v) for v in rng.integers(236, 252, 3))
    img = Image.new("RGB", (TICKET_W, TICKET_H), paper)
    d = ImageDraw.Draw(img)
    ink = (30, 30, 30)
    band = tuple(int(v) for v in rng.choice([(180, 40, 40), (40, 70, 160), (60, 60, 60)]))
    d.rectangle([0, 0, TICKET_W, 110], fill=band)
    d.text((60, 25), f"{rng.integers(2025, 2028)}年职业技能等级认定 准考证", font=_font(54), fill=(250, 250, 250))
    d.rectangle([60, 150, 280, 430], outline=ink, width=3)  # photo box
    d.ellipse([115, 190, 225, 320], fill=(170, 160, 150))
    d.rectangle([95, 320, 245, 428], fill=(90, 90, 110))
    name = rng.choice(list(_SURNAMES)) + "".join(rng.choice(list(_GIVEN), 2))
    fields = [
        ("姓    名", name),
        ("准考证号", "".join(rng.choice(list("0123456789"), 12))),
        ("身份证号", "".join(rng.choice(list("0123456789"), 17)) + "X"),
        ("考试科目", str(rng.choice(_SUBJECTS))),
        ("考    场", f"第{rng.integers(1, 40):02d}考场  座位 {rng.integers(1, 31):02d}"),
        ("考试时间", f"{rng.integers(6, 12)}月{rng.integers(1, 29)}日 09:00-11:00"),
    ]
    for i, (k, v) in enumerate(fields):
        y = 150 + i * 50
        d.text((310, y), k + "：", font=_font(30), fill=ink)
        d.text((470, y), v, font=_font(30), fill=ink)
        d.line([470, y + 42, 800, y + 42], fill=(120, 120, 120), width=1)
    d.text((60, 480), "考生须知", font=_font(32), fill=ink)
    for i in range(6):  # small-print rules: dense text-like texture near the code
        words = "".join(rng.choice(list(_SURNAMES + _GIVEN + "考试证件携带入场禁止"), 34))
        d.text((60, 530 + i * 44), f"{i + 1}. {words}", font=_font(24), fill=(70, 70, 70))
    return cv2.cvtColor(np.asarray(img), cv2.COLOR_RGB2BGR)


def _smooth_field(rng, shape, cell, ch=1):
    h, w = shape
    g = rng.normal(size=(h // cell + 3, w // cell + 3, ch)).astype(np.float32)
    f = cv2.resize(g, (w + 2 * cell, h + 2 * cell), interpolation=cv2.INTER_CUBIC)
    f = f.reshape(h + 2 * cell, w + 2 * cell, ch)[cell : cell + h, cell : cell + w]
    return f / (f[::7, ::7].std() + 1e-6)


def crumple(img, rng, module_px, amp_modules):
    """Paper that was crumpled and flattened again: smooth warping, shading
    from the bumps, and a few creases that shift the print slightly.

    amp_modules is the std of the displacement in modules.  At ~0.2 the local
    stretch peaks near 5%, i.e. bumps sloped ~18°, which is what a ticket
    smoothed out on a knee still has; 0.3 and up (peaks >10%) is a ticket
    that was never flattened."""
    h, w = img.shape[:2]
    disp = _smooth_field(rng, (h, w), int(rng.integers(60, 110)), 2) * amp_modules * module_px
    shade = 1.0 + 0.07 * _smooth_field(rng, (h, w), 80)[..., 0]
    xx, yy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    for _ in range(int(rng.integers(1, 4))):
        a = rng.uniform(0, np.pi)
        nx, ny = np.float32(np.cos(a)), np.float32(np.sin(a))
        dist = (xx - np.float32(rng.uniform(0, w))) * nx + (yy - np.float32(rng.uniform(0, h))) * ny
        dist = np.clip(dist, -20, 20)  # past this the terms below are flat
        side = np.tanh(dist / 3.0)
        step = np.float32(rng.uniform(0.1, 0.3) * module_px)
        disp[..., 0] += side * (step * nx)
        disp[..., 1] += side * (step * ny)
        shade += -0.18 * np.exp(-((dist / 2.5) ** 2)) + 0.05 * np.exp(-(((dist - 6) / 5) ** 2))
    out = cv2.remap(img, xx + disp[..., 0], yy + disp[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return np.clip(out * shade[..., None], 0, 255).astype(np.uint8)


@functools.lru_cache(maxsize=2)
def _subpixel_mask(sh: int, sw: int, p: int) -> np.ndarray:
    stripe = np.zeros((p, 3), np.float32)  # column j of a pixel lights channel j
    stripe[[0, 1, 2], [2, 1, 0]] = 1.0  # BGR order: R on the left
    # Gain > 1 and unclipped float so the stripes average back to the pixel's
    # brightness once the camera bins them; saturation happens in the sensor.
    mask = np.tile(stripe, (sw, 1))[None] * 2.6 + 0.15
    mask = np.broadcast_to(mask, (sh * p, sw * p, 3)).copy()
    mask[p - 1 :: p] *= 0.55  # black matrix between pixel rows
    return mask


def render_phone(token: str, rng: np.random.Generator):
    """A phone held up with the code on screen: either the e-ticket page or
    the candidate's own photo of the paper ticket, zoomed in.  The screen is
    drawn with its sub-pixel stripes so the camera resamples them into moiré."""
    sw, sh = 360, 760  # device px; low so the sub-pixel image stays small
    if rng.random() < 0.5:
        scr = np.full((sh, sw, 3), 250, np.uint8)
        scr[:90] = (200, 140, 30)
        side = int(sw * rng.uniform(0.62, 0.78))
        x0, y0 = (sw - side) // 2, 230
        scr[y0 : y0 + side, x0 : x0 + side] = _qr_image(token, side, 10, 250)[..., None]
        for i in range(5):
            cv2.rectangle(scr, (30, 130 + i * 18), (int(rng.integers(150, 330)), 138 + i * 18), (120, 120, 120), -1)
        quad = _square(x0, y0, side)
    else:
        t, tq = render_ticket(token, rng)
        side = sw * rng.uniform(0.55, 0.7)
        src = tq + rng.normal(0, 6, tq.shape).astype(np.float32)  # photo was not square-on
        dst = np.float32([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]]) * side + np.float32(
            [sw / 2, sh / 2 + rng.uniform(-80, 80)]
        )
        hm = cv2.getPerspectiveTransform(src.astype(np.float32), dst)
        scr = cv2.warpPerspective(t, hm, (sw, sh), flags=cv2.INTER_AREA, borderValue=(40, 40, 40))
        tint = np.float32([rng.uniform(0.75, 0.9), rng.uniform(0.85, 0.95), 1.0])  # warm room light
        scr = np.clip(scr * tint * rng.uniform(0.8, 1.0), 0, 255).astype(np.uint8)
        scr = cv2.GaussianBlur(scr, (0, 0), 0.7)
        quad = cv2.perspectiveTransform(tq[None], hm)[0]
    p = 3
    big = cv2.resize(scr, None, fx=p, fy=p, interpolation=cv2.INTER_NEAREST).astype(np.float32)
    big *= _subpixel_mask(sh, sw, p)
    bezel = 40
    ph, pw = sh * p + 2 * bezel * 3, sw * p + 2 * bezel
    phone = np.zeros((ph, pw, 3), np.float32)
    body = tuple(float(v) for v in rng.integers(15, 60, 3))
    cv2.rectangle(phone, (0, 0), (pw - 1, ph - 1), body, -1)
    oy = bezel * 3
    phone[oy : oy + sh * p, bezel : bezel + sw * p] = big
    glow = _smooth_field(rng, (ph // 8, pw // 8), 50)  # reflection of the room on glass
    phone += cv2.resize(18 * (glow + 1), (pw, ph))[..., None]
    alpha = np.zeros((ph, pw), np.uint8)  # rounded corners, radius r
    r = 120
    cv2.rectangle(alpha, (r, 0), (pw - r, ph), 255, -1)
    cv2.rectangle(alpha, (0, r), (pw, ph - r), 255, -1)
    for cx, cy in ((r, r), (pw - r, r), (r, ph - r), (pw - r, ph - r)):
        cv2.circle(alpha, (cx, cy), r, 255, -1)
    quad = quad * p + np.float32([bezel, oy])
    return phone, quad, alpha


def _background(rng):
    # Drawn at half size: it ends up out of focus, so nothing is lost.
    h, w = FRAME_H // 2, FRAME_W // 2
    base = rng.uniform(60, 200, 3).astype(np.float32)
    grad = np.linspace(rng.uniform(0.6, 1.0), rng.uniform(0.6, 1.0), w, dtype=np.float32)
    bg = np.ascontiguousarray(base[None, None] * grad[None, :, None] * np.ones((h, 1, 1), np.float32))
    for _ in range(int(rng.integers(6, 14))):  # furniture, clothing, a window, a face
        c = tuple(float(v) for v in rng.uniform(10, 250, 3))
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        if rng.random() < 0.5:
            cv2.rectangle(bg, (x, y), (x + int(rng.integers(20, 200)), y + int(rng.integers(20, 150))), c, -1)
        else:
            cv2.ellipse(
                bg,
                (x, y),
                (int(rng.integers(10, 100)), int(rng.integers(10, 100))),
                float(rng.uniform(0, 180)),
                0,
                360,
                c,
                -1,
            )
    bg = cv2.GaussianBlur(bg, (0, 0), rng.uniform(0.8, 3))
    return cv2.resize(bg, (FRAME_W, FRAME_H), interpolation=cv2.INTER_LINEAR)


def _homography(src_quad, q_px, rot_deg, tilt_deg, rng):
    """Maps object px to frame px so the code is q_px wide, rotated, tilted
    out of plane, and lands entirely inside the frame (quiet zone included)."""
    c = src_quad.mean(0)
    s = q_px / np.linalg.norm(src_quad[1] - src_quad[0])
    rz, rx, ry = (
        cv2.Rodrigues(np.deg2rad(v) * np.eye(3)[i])[0] for i, v in ((2, rot_deg), (0, tilt_deg[0]), (1, tilt_deg[1]))
    )
    r = rx @ ry @ rz
    sq = np.float32([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * 400
    pts = np.c_[sq, np.zeros(4)] @ r.T
    proj = FOCAL * pts[:, :2] / (FOCAL + pts[:, 2:3])
    h = cv2.getPerspectiveTransform((sq / s + c).astype(np.float32), proj.astype(np.float32))
    fq = cv2.perspectiveTransform(src_quad[None], h)[0]
    margin = 0.12 * q_px + 6
    lo = np.array([margin, margin]) - fq.min(0)
    hi = np.array([FRAME_W - margin, FRAME_H - margin]) - fq.max(0)
    off = rng.uniform(lo, np.maximum(hi, lo))
    return np.array([[1, 0, off[0]], [0, 1, off[1]], [0, 0, 1]]) @ h


def _paste(frame, obj, alpha, h, supersample=1):
    """Composite obj into the frame.  supersample=1 area-averages the object
    first (print has no fine structure worth keeping); >1 renders at that
    multiple of the frame and bins down, like sensor pixels integrating
    light, which is what turns a screen's pixel grid into moiré."""
    if supersample == 1:
        s = np.sqrt(abs(np.linalg.det(h[:2, :2]))) * 1.3
        if s < 1:
            obj = cv2.resize(obj, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
            alpha = cv2.resize(alpha, (obj.shape[1], obj.shape[0]), interpolation=cv2.INTER_AREA)
            h = h @ np.diag([1 / s, 1 / s, 1])
    k = supersample
    h = np.diag([k, k, 1]) @ h
    size = (FRAME_W * k, FRAME_H * k)
    warped = cv2.warpPerspective(obj, h, size, flags=cv2.INTER_LINEAR).astype(np.float32)
    a = cv2.warpPerspective(alpha, h, size, flags=cv2.INTER_LINEAR).astype(np.float32) / 255
    if k > 1:
        warped = cv2.resize(warped, (FRAME_W, FRAME_H), interpolation=cv2.INTER_AREA)
        a = cv2.resize(a, (FRAME_W, FRAME_H), interpolation=cv2.INTER_AREA)
    a = a[..., None]
    return frame * (1 - a) + warped * a


# Setting -> (range on its own, range inside a "combo" of several).
_RANGES = {
    "tilt": ((-40, 40), (-25, 25)),
    "crumple": ((0.08, 0.2), (0.08, 0.15)),
    "defocus": ((0.2, 0.45), (0.2, 0.35)),
    "motion": ((0.4, 1.2), (0.4, 0.9)),
    "gain": ((0.12, 0.35), (0.25, 0.4)),
    "noise": ((2.5, 6.0), (2.0, 4.0)),
    "glare": ((150, 260), (120, 200)),
    "jpeg": ((20, 60), (35, 60)),
}


def _spec(kind, rng):
    """Degradation settings.  Blur is in QR modules, not px, and its realistic
    ceiling is set where the finest module pattern keeps ~40% contrast (defocus
    sigma 0.45 module, motion streak 1.2 modules): softer than that a person
    would not call the code sharp.  The kiosk takes 30 frames/s, so these are
    the frames taken while the ticket is held still."""
    u = rng.uniform
    s = dict(
        q=u(150, 260),
        rot=u(-8, 8),
        tilt=(u(-10, 10), u(-10, 10)),
        crumple=0.0,
        lens=u(0.4, 0.8),
        defocus=0.0,
        motion=0.0,
        gain=1.0,
        boost=False,
        noise=u(1.5, 3.0),
        glare=0.0,
        jpeg=u(75, 95),
        phone=False,
    )
    r = lambda key: u(*_RANGES[key][kind == "combo"])  # noqa: E731
    parts = {kind}
    if kind == "combo":
        parts = set(
            rng.choice(
                ["rotate", "tilt", "crumple", "blur", "lowlight", "glare", "jpeg"],
                int(rng.integers(2, 4)),
                replace=False,
            )
        )
    elif kind == "hard":
        parts = set(
            rng.choice(
                ["rotate", "tilt", "crumple", "blur", "lowlight", "glare"], int(rng.integers(3, 5)), replace=False
            )
        ) | {"jpeg"}
        s["q"] = u(100, 150)
    if "rotate" in parts:
        s["rot"] = u(-45, 45) + 90 * int(rng.integers(0, 4))
    if "tilt" in parts:
        s["tilt"] = (r("tilt"), r("tilt"))
    if "crumple" in parts:
        s["crumple"] = r("crumple")
    if kind == "crumple_heavy":
        s["crumple"] = u(0.25, 0.45)
    if "blur" in parts:
        key = "defocus" if rng.random() < 0.5 else "motion"
        s[key] = r(key)
    if "lowlight" in parts:
        s["gain"] = r("gain")
        s["boost"] = bool(rng.random() < 0.5)  # webcam auto-gain amplifies the noise
        s["noise"] = r("noise")
    for key in ("glare", "jpeg"):
        if key in parts:
            s[key] = r(key)
    if kind == "small":
        s["q"] = u(90, 120)
    if kind == "tiny":
        s["q"] = u(60, 85)
    if kind == "phone":
        s["phone"] = True
        s["q"] = u(150, 240)
        s["rot"] = u(-20, 20)
        s["tilt"] = (u(-20, 20), u(-20, 20))
    if kind == "hard":
        s["crumple"] *= 1.5
        s["defocus"] = s["defocus"] and u(0.45, 0.65)
        s["motion"] = s["motion"] and u(1.2, 1.8)
        s["glare"] *= 1.25
        s["noise"] *= 1.25
    return s


@functools.lru_cache(maxsize=1)
def _noise_bank(h, w, c):
    # Drawing 2.7M normals per frame dominated generation time; a random
    # window of one bank is as good for the decoder.
    return np.random.default_rng(77).standard_normal((h + 97, w + 131, c), np.float32)


@functools.lru_cache(maxsize=1)
def _vignette(h, w):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return 1 - 1.4 * (((xx - w / 2) / w) ** 2 + ((yy - h / 2) / h) ** 2)


def _camera(frame, s, rng, quad_frame, module_px):
    """Scene light -> lens -> sensor -> MJPEG, in the order a webcam applies them."""
    h, w = frame.shape[:2]
    if s["glare"]:
        c = quad_frame.mean(0) + rng.uniform(-0.3, 0.3, 2) * s["q"]
        ax = (rng.uniform(0.12, 0.3) * s["q"], rng.uniform(0.08, 0.2) * s["q"])
        prof = np.zeros((h, w), np.float32)
        cv2.ellipse(
            prof, (int(c[0]), int(c[1])), (int(ax[0] * 2), int(ax[1] * 2)), float(rng.uniform(0, 180)), 0, 360, 1.0, -1
        )
        prof = cv2.GaussianBlur(prof, (0, 0), max(ax) * 0.8)
        frame = frame + (s["glare"] / max(prof.max(), 1e-6)) * prof[..., None]
    if s["gain"] < 1:
        frame = frame * (s["gain"] * _vignette(h, w)[..., None])
    frame = np.minimum(frame, 255, dtype=np.float32)
    if s["motion"]:
        k = np.zeros((63, 63), np.float32)
        half = min(s["motion"] * module_px / 2, 30)
        a = rng.uniform(0, np.pi)
        dx, dy = half * np.cos(a), half * np.sin(a)
        cv2.line(
            k,
            (round(31 - dx), round(31 - dy)),
            (round(31 + dx), round(31 + dy)),
            1.0,
            1,
            cv2.LINE_AA,
        )
        frame = cv2.filter2D(frame, -1, k / k.sum())
    sigma = float(np.hypot(s["lens"], s["defocus"] * module_px))
    frame = cv2.GaussianBlur(frame, (0, 0), sigma)
    # Shot noise grows with signal; read noise sets the floor in the dark.
    sigma = cv2.sqrt(frame * 0.02 + s["noise"] ** 2)
    y, x = int(rng.integers(0, 97)), int(rng.integers(0, 131))
    frame += _noise_bank(*frame.shape)[y : y + h, x : x + w] * sigma
    frame = np.round(frame)
    if s["boost"]:
        frame *= 0.6 / s["gain"]
    frame = np.clip(frame, 0, 255).astype(np.uint8)
    _, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(s["jpeg"])])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


def make_frame(kind: str, token: str | None, rng: np.random.Generator) -> np.ndarray:
    """One BGR 1280x720 frame; token=None gives a ticket-like scene with no code."""
    s = _spec(kind, rng)
    frame = _background(rng)
    modules = qr_matrix(token).shape[0] if token else 49
    if s["phone"] and token is not None:
        obj, quad, alpha = render_phone(token, rng)
        supersample = 2
    else:
        obj, quad = render_ticket(token, rng)
        alpha = np.full(obj.shape[:2], 255, np.uint8)
        if quad is None:  # frame it as if the code were there
            quad = _square(870, 200, QR_SIDE)
        if s["crumple"]:
            obj = crumple(obj, rng, QR_SIDE / modules, s["crumple"])
        supersample = 1
    h = _homography(quad, s["q"], s["rot"], s["tilt"], rng)
    frame = _paste(frame, obj, alpha, h, supersample)
    fq = cv2.perspectiveTransform(quad[None], h)[0]
    return _camera(frame, s, rng, fq, s["q"] / modules)


def make_set(n_per_kind: int, seed: int, kinds=KINDS) -> list[tuple[str, str, np.ndarray]]:
    out = []
    for kind in kinds:
        # One stream per kind, so adding a kind or changing n of another
        # does not reshuffle the frames of this one.
        rng = np.random.default_rng([seed, KINDS.index(kind)])
        for _ in range(n_per_kind):
            token = make_token(rng)
            out.append((kind, token, make_frame(kind, token, rng)))
    return out


def make_empty_frames(n: int, seed: int) -> list[np.ndarray]:
    """Tickets with the code area blank: what the camera sees most of the time
    is a scene without a code, and that is where a slow fallback chain hurts."""
    rng = np.random.default_rng([seed, 999])
    return [make_frame(str(rng.choice(["clean", "tilt", "lowlight"])), None, rng) for _ in range(n)]
