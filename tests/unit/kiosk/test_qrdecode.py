"""Kiosk QR decoding on synthetic ticket photos (bench/qr_photos.py).

The full per-kind figures come from bench/qr_decoders.py; these tests only
guard that every decoder works at all, that the chain still reads a small
seeded sample of realistic photos, and that it never invents a code."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from bench.qr_photos import FRAME_H, FRAME_W, REALISTIC, make_empty_frames, make_set, make_token, render_ticket
from kiosk.qrdecode import DECODERS, decode


@pytest.fixture(scope="module")
def clean_frame():
    """A flat, sharp ticket filling half the frame: every decoder, OpenCV's
    included, must read this or it is broken rather than weak."""
    rng = np.random.default_rng(3)
    token = make_token(rng)
    ticket, _ = render_ticket(token, rng)
    ticket = cv2.resize(ticket, None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA)
    frame = np.full((FRAME_H, FRAME_W, 3), 90, np.uint8)
    y, x = (FRAME_H - ticket.shape[0]) // 2, (FRAME_W - ticket.shape[1]) // 2
    frame[y : y + ticket.shape[0], x : x + ticket.shape[1]] = ticket
    return token, frame


@pytest.mark.parametrize("name", sorted(DECODERS))
def test_each_decoder_reads_a_clean_ticket(name, clean_frame):
    token, frame = clean_frame
    assert DECODERS[name](frame) == [token]


def test_chain_is_what_decode_uses(clean_frame):
    assert DECODERS["chain"] is decode


def test_decode_accepts_gray_and_bgra(clean_frame):
    token, frame = clean_frame
    assert decode(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)) == [token]
    assert decode(cv2.cvtColor(frame, cv2.COLOR_BGR2BGRA)) == [token]


def test_decode_reads_degraded_realistic_photos():
    samples = make_set(3, seed=11, kinds=REALISTIC)
    read, wrong = 0, []
    for kind, token, frame in samples:
        out = decode(frame)
        read += out == [token]
        if out and out != [token]:
            wrong.append((kind, out))
    assert not wrong  # a miss costs a retry at the door; a misread is a wrong person
    assert read / len(samples) >= 0.95, f"{read}/{len(samples)} decoded"


def test_decode_returns_nothing_without_a_code():
    frames = make_empty_frames(4, seed=5)
    frames += [
        np.zeros((FRAME_H, FRAME_W, 3), np.uint8),
        np.random.default_rng(0).integers(0, 256, (FRAME_H, FRAME_W), np.uint8),
    ]
    for frame in frames:
        assert decode(frame) == []
