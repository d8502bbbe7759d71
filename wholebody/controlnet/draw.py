"""OpenPose-style pose maps, drawn exactly as controlnet_aux's DWPose annotator draws them.

Order (controlnet_aux ``dwpose/util.py``, ``shared/reference/controlnet_eval.md`` §1.4-1.6):
limb i of every person (17 limbs, filled ellipse polygons, minor semi-axis 4), then the whole
canvas x 0.6 (truncated to uint8), then joint k of every person (filled circles r=4, full
colour); then every left hand and then every right hand (20 edges, 2 px lines in HSV colours,
then blue r=4 dots); then every face (white r=3 dots). Body points are drawn when their score
is > 0.3; hand and face points when their score is >= 0.3 and their truncated pixel x and y
are both >= 1 (the reference's ``int(x) > 0.01`` test). No anti-aliasing. Coordinates pass
through the reference's normalise-then-rescale in float32 so integer truncation matches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wholebody.controlnet.layout import FOOT_NAMES, OpenPosePeople
from wholebody.keypoints import BODY25, OPENPOSE18
from wholebody.keypoints.openpose import OPENPOSE18_LIMBS, OPENPOSE_COLOURS

HAND_EDGES = (
    (0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (0, 9), (9, 10),
    (10, 11), (11, 12), (0, 13), (13, 14), (14, 15), (15, 16), (0, 17), (17, 18), (18, 19),
    (19, 20),
)  # fmt: skip
HAND_POINT_COLOUR = (0, 0, 255)
FACE_POINT_COLOUR = (255, 255, 255)
# CMU OpenPose BODY_25 foot colours: left foot blue, right foot cyan (continuing the legs).
FOOT_COLOURS = {"left": (0, 0, 255), "right": (0, 255, 255)}
# BODY_25's foot links (ankle-big toe, big toe-small toe, ankle-heel), by name.
_FOOT_LIMBS = tuple(
    (BODY25.names[i], BODY25.names[j]) for i, j in BODY25.links
    if BODY25.names[i] in FOOT_NAMES or BODY25.names[j] in FOOT_NAMES
)  # fmt: skip


def hsv_edge_colour(index: int, count: int = len(HAND_EDGES)) -> tuple[float, float, float]:
    """``matplotlib.colors.hsv_to_rgb([index / count, 1, 1]) * 255`` with the same float steps
    (h * 6 split into sector and fraction), so OpenCV rounds the .5 cases identically."""
    h = np.float64(index / float(count))
    sector = int(h * 6.0)
    f = h * 6.0 - sector
    q, t = 1.0 - f, 1.0 - (1.0 - f)
    rgb = [(1.0, t, 0.0), (q, 1.0, 0.0), (0.0, 1.0, t), (0.0, q, 1.0), (t, 0.0, 1.0),
           (1.0, 0.0, q)][sector % 6]  # fmt: skip
    return tuple(float(np.float64(c) * 255) for c in rgb)


HAND_EDGE_COLOURS = tuple(hsv_edge_colour(i) for i in range(len(HAND_EDGES)))


@dataclass(frozen=True)
class PoseStyle:
    """How a pose map is drawn. The defaults reproduce controlnet_aux's DWPose drawing.

    Attributes:
        body, hands, face, feet: per-part toggles (feet are not drawn by ControlNet's tools).
        face_points: 68 (controlnet_aux) or 70 (adds body right/left eye dots, as sd-webui).
        stick_width: limb ellipse minor semi-axis in pixels, or ``"xinsir"``: 4 x the stick
            scale of comfyui's ``scale_stick_for_xinsr_cn`` (1 below 500 px max side, else
            ``min(2 + max_side // 1000, 7)``) for xinsir's SDXL openpose ControlNet.
        joint_radius, hand_line_width, hand_point_radius, face_point_radius: pixels.
        body_threshold: body/feet points drawn when score > this.
        part_threshold: hand/face points drawn when score >= this.
        limb_dim: factor applied to the whole canvas after the limbs (OpenPose's alpha 0.6).
        order: ``"part"`` (controlnet_aux / DWPose: every person's limbs, dimming, every
            person's joints, all hands, all faces) or ``"person"`` (sd-webui-controlnet and
            comfyui_controlnet_aux: person after person, each limb colour dimmed on its own,
            body points drawn at score >= threshold). One person: both give the same map.
    """

    body: bool = True
    hands: bool = True
    face: bool = True
    feet: bool = False
    face_points: int = 68
    stick_width: int | str = 4
    joint_radius: int = 4
    hand_line_width: int = 2
    hand_point_radius: int = 4
    face_point_radius: int = 3
    body_threshold: float = 0.3
    part_threshold: float = 0.3
    limb_dim: float = 0.6
    order: str = "part"

    def __post_init__(self) -> None:
        if self.face_points not in (68, 70):
            raise ValueError(f"face_points: expected 68 or 70, got {self.face_points}")
        if self.stick_width != "xinsir" and not (
            isinstance(self.stick_width, int) and self.stick_width > 0
        ):
            raise ValueError(
                f"stick_width: expected a positive int or 'xinsir', got {self.stick_width!r}"
            )
        if self.order not in ("part", "person"):
            raise ValueError(f"order: expected 'part' or 'person', got {self.order!r}")
        if not 0.0 <= self.limb_dim <= 1.0:
            raise ValueError(f"limb_dim: expected a value in [0, 1], got {self.limb_dim}")

    def stick_for(self, height: int, width: int) -> int:
        """Limb minor semi-axis on an ``height x width`` canvas."""
        if self.stick_width != "xinsir":
            return int(self.stick_width)
        max_side = max(height, width)
        return 4 * (1 if max_side < 500 else min(2 + max_side // 1000, 7))


STYLES: dict[str, PoseStyle] = {
    "controlnet": PoseStyle(),
    "xinsir": PoseStyle(stick_width="xinsir"),
    "feet": PoseStyle(feet=True),
    "body": PoseStyle(hands=False, face=False),
    "face70": PoseStyle(face_points=70),
    "sdwebui": PoseStyle(order="person", face_points=70),
}


def get_style(style: str | PoseStyle | None) -> PoseStyle:
    if style is None:
        return STYLES["controlnet"]
    if isinstance(style, PoseStyle):
        return style
    if style not in STYLES:
        raise ValueError(f"unknown pose style {style!r}, expected one of {sorted(STYLES)}")
    return STYLES[style]


def _pixels(points: np.ndarray, height: int, width: int) -> np.ndarray:
    """Reference's ``(x / W) * W`` float32 round trip, then the truncated integers."""
    size = np.array([width, height], dtype=np.float32)
    return points.astype(np.float32) / size * size


def _draw_limbs(canvas, xy, valid, limbs, colours, stick, cv2, box) -> None:
    """Filled ellipse limbs; limb-major then person order, as the reference. ``box``
    (x0, y0, x1, y1) grows to cover every polygon drawn."""
    if len(limbs) == 0 or xy.shape[0] == 0:
        return
    a = np.array([i for i, _ in limbs])
    b = np.array([j for _, j in limbs])
    pa, pb = xy[:, a], xy[:, b]  # (N, L, 2)
    ok = valid[:, a] & valid[:, b]
    centre = np.trunc((pa + pb) / np.float32(2)).astype(np.int64)
    d = pa - pb
    length = (d[..., 0] ** 2 + d[..., 1] ** 2) ** np.float32(0.5)
    half = np.trunc(length / np.float32(2)).astype(np.int64)
    radians = np.arctan2(d[..., 1].astype(np.float64), d[..., 0].astype(np.float64))
    angle = np.trunc(np.degrees(radians)).astype(np.int64)
    for li in range(len(limbs)):
        for n in np.flatnonzero(ok[:, li]):
            c = (int(centre[n, li, 0]), int(centre[n, li, 1]))
            poly = cv2.ellipse2Poly(c, (int(half[n, li]), stick), int(angle[n, li]), 0, 360, 1)
            cv2.fillConvexPoly(canvas, poly, colours[li])
            lo, hi = poly.min(axis=0), poly.max(axis=0)
            box[:] = min(box[0], lo[0]), min(box[1], lo[1]), max(box[2], hi[0]), max(box[3], hi[1])


def _draw_dots(canvas, ij, valid, radius, colours, cv2) -> None:
    """Filled circles; point-major then person order (``colours`` per point)."""
    for k in range(ij.shape[1]):
        for n in np.flatnonzero(valid[:, k]):
            cv2.circle(canvas, (int(ij[n, k, 0]), int(ij[n, k, 1])), radius, colours[k], -1)


def _draw_hand(canvas, ij, valid, style, cv2) -> None:
    for e, (a, b) in enumerate(HAND_EDGES):
        if valid[a] and valid[b]:
            cv2.line(canvas, (int(ij[a, 0]), int(ij[a, 1])), (int(ij[b, 0]), int(ij[b, 1])),
                     HAND_EDGE_COLOURS[e], thickness=style.hand_line_width)  # fmt: skip
    for k in np.flatnonzero(valid):
        cv2.circle(canvas, (int(ij[k, 0]), int(ij[k, 1])), style.hand_point_radius,
                   HAND_POINT_COLOUR, -1)  # fmt: skip


def _part_valid(ij: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    # Reference: score < thr -> coordinate -1; then int(x * W) > 0.01 for x and y.
    return (scores >= np.float32(threshold)) & (ij[..., 0] >= 1) & (ij[..., 1] >= 1)


def draw_pose(
    people: OpenPosePeople, height: int, width: int, style: str | PoseStyle | None = None
) -> np.ndarray:
    """Draw people (pixel coordinates of this canvas) on a black ``(height, width, 3)`` uint8
    RGB canvas. Points outside the canvas are clipped by the drawing, as in the reference."""
    import cv2

    style = get_style(style)
    if int(height) != height or int(width) != width or height <= 0 or width <= 0:
        raise ValueError(f"canvas: expected positive integer height, width, got {height}, {width}")
    canvas = np.zeros((int(height), int(width), 3), dtype=np.uint8)
    if style.order == "person":
        for n in range(len(people)):
            _paint(canvas, people.take([n]), style, cv2)
    else:
        _paint(canvas, people, style, cv2)
    return canvas


def _paint(canvas: np.ndarray, people: OpenPosePeople, style: PoseStyle, cv2) -> None:
    height, width = canvas.shape[:2]
    per_person = style.order == "person"
    thr = np.float32(style.body_threshold)
    body = _pixels(people.body, height, width)
    body_ok = people.body_scores >= thr if per_person else people.body_scores > thr
    colours = [tuple(c) for c in OPENPOSE_COLOURS]
    # Per-person drawing dims each limb colour instead of the canvas: int(c * 0.6).
    limb_colours = [tuple(int(float(v) * style.limb_dim) for v in c) for c in colours]
    if style.feet:
        names = OPENPOSE18.names + FOOT_NAMES
        legs = np.concatenate([body, _pixels(people.feet, height, width)], axis=1)
        feet_ok = people.feet_scores >= thr if per_person else people.feet_scores > thr
        legs_ok = np.concatenate([body_ok, feet_ok], axis=1)
        foot_limbs = [(names.index(a), names.index(b)) for a, b in _FOOT_LIMBS]
        foot_colours = [FOOT_COLOURS["left" if "left" in names[j] else "right"]
                        for _, j in foot_limbs]  # fmt: skip
        if per_person:
            foot_colours = [tuple(int(float(v) * style.limb_dim) for v in c) for c in foot_colours]
    box = [width, height, -1, -1]  # bounds of the limbs drawn (x0, y0, x1, y1)
    stick = style.stick_for(height, width)
    if style.body:
        limbs = [(OPENPOSE18.index(a), OPENPOSE18.index(b)) for a, b in OPENPOSE18_LIMBS]
        paint = limb_colours if per_person else colours
        _draw_limbs(canvas, body, body_ok, limbs, paint, stick, cv2, box)
    if style.feet:
        _draw_limbs(canvas, legs, legs_ok, foot_limbs, foot_colours, stick, cv2, box)
    x0, y0 = max(box[0], 0), max(box[1], 0)
    x1, y1 = min(box[2], width - 1), min(box[3], height - 1)
    if not per_person and x1 >= x0 and y1 >= y0:
        # The reference's whole-canvas (canvas * 0.6).astype(uint8), as a lookup table on the
        # only region that is not black (0 stays 0).
        lut = (np.arange(256) * style.limb_dim).astype(np.uint8)
        canvas[y0 : y1 + 1, x0 : x1 + 1] = cv2.LUT(canvas[y0 : y1 + 1, x0 : x1 + 1], lut)
    if style.body:
        ij = np.trunc(body).astype(np.int64)
        _draw_dots(canvas, ij, body_ok, style.joint_radius, colours, cv2)
    if style.feet:
        ij = np.trunc(legs[:, 18:]).astype(np.int64)
        dot_colours = [FOOT_COLOURS["left" if "left" in n else "right"] for n in FOOT_NAMES]
        _draw_dots(canvas, ij, legs_ok[:, 18:], style.joint_radius, dot_colours, cv2)
    if style.hands:
        for part in ("left_hand", "right_hand"):
            pts, sc = people.part(part)
            ij = np.trunc(_pixels(pts, height, width)).astype(np.int64)
            ok = _part_valid(ij, sc, style.part_threshold)
            for n in range(len(people)):
                _draw_hand(canvas, ij[n], ok[n], style, cv2)
    if style.face:
        face_people = people.with_face70() if style.face_points == 70 else people
        pts, sc = face_people.face[:, : style.face_points], face_people.face_scores
        sc = sc[:, : style.face_points]
        ij = np.trunc(_pixels(pts, height, width)).astype(np.int64)
        ok = _part_valid(ij, sc, style.part_threshold)
        for n in range(len(people)):
            for k in np.flatnonzero(ok[n]):
                cv2.circle(canvas, (int(ij[n, k, 0]), int(ij[n, k, 1])),
                           style.face_point_radius, FACE_POINT_COLOUR, -1)  # fmt: skip
