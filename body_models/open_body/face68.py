"""The 68 iBUG/300W face landmarks (COCO-WholeBody ``face-0`` ... ``face-67``) on Anny's face.

Anny ships no face landmarks, so they are placed by documented geometric rules on the T-posed
mean template seen from the front (+Z), SMPL-X frame (x = subject's left):

- eyes (36-47): the eye opening is where frontal rays hit the eyeball (vertices skinned to the
  eye joints) first; corners are its x extremes, lid points its top/bottom edges at 1/3 and 2/3.
- brows (17-26): per column, the height where ``browDown*`` moves the surface most; five
  points evenly spread over the moving region.
- nose (27-35): the midline profile: nasion = deepest point between eyes and brows, tip = most
  forward point, subnasale = deepest point between tip and upper lip; bridge points evenly
  spaced; nostril points proportional to the inner-eye-corner distance.
- mouth (48-67): inner lips from the opening of the ``jawOpen`` mesh (depth valley between the
  lips; the hit triangles are reused on the closed mouth); outer lips from the extent of the
  ``mouthRollUpper`` / ``mouthRollLower`` regions.
- contour (0-16): the frontal silhouette of the lower face (in front of the ears) from the
  right outer eye-corner height, through the chin, to the left, at equal arc length.
"""

from __future__ import annotations

import numpy as np

from body_models.open_body.surface import SurfacePoint, front_hits, front_point, vertex_point

_HEAD = ("head", "jaw", "left_eye_smplhf", "right_eye_smplhf")


def _moving(blend: np.ndarray, labels, names) -> np.ndarray:
    return sum(np.linalg.norm(blend[labels.index(n)], axis=1) for n in names)


def _grid(x0, x1, y0, y1, step):
    xs = np.arange(x0, x1 + step / 2, step)
    ys = np.arange(y0, y1 + step / 2, step)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, np.stack([gx.ravel(), gy.ravel()], axis=1)


class FaceLandmarker:
    """Places the 68 landmarks; see the module docstring for the rules."""

    def __init__(self, vertices, faces, weights, joint_names, blend, blend_labels, step=0.001):
        self.v, self.f, self.step = vertices, faces, step
        self.labels = list(blend_labels)
        self.blend = blend
        cols = [joint_names.index(n) for n in _HEAD]
        head_w = weights[:, cols].sum(axis=1)
        eye_w = weights[:, cols[2:]].sum(axis=1)
        front = (head_w[faces].min(axis=1) > 0.5) & (vertices[faces][:, :, 2].min(axis=1) > 0.0)
        self.subset = np.flatnonzero(front)
        self.is_eye = eye_w[faces].mean(axis=1) > 0.9
        self.skin = np.flatnonzero(front & ~self.is_eye)

    def _interp(self, field, face, bary):
        return np.where(
            face >= 0, np.einsum("ri,ri->r", bary, field[self.f[np.maximum(face, 0)]]), 0
        )

    def eye(self, centre_x: float, centre_y: float):
        """(outer, upper1, upper2, inner, lower2, lower1) points of the eye near (x, y)."""
        xs, ys, pts = _grid(
            centre_x - 0.025, centre_x + 0.025, centre_y - 0.015, centre_y + 0.015, self.step / 2
        )
        face, _, _ = front_hits(self.v, self.f, pts, self.subset)
        open_ = (face >= 0) & self.is_eye[np.maximum(face, 0)]
        mask = open_.reshape(len(ys), len(xs))
        cols = np.flatnonzero(mask.any(axis=0))
        x_lo, x_hi = xs[cols[0]], xs[cols[-1]]
        corner_lo = ys[np.flatnonzero(mask[:, cols[0]])].mean()
        corner_hi = ys[np.flatnonzero(mask[:, cols[-1]])].mean()

        def lid(x, top):
            c = np.argmin(np.abs(xs - x))
            rows = np.flatnonzero(mask[:, c])
            y = ys[rows[-1]] + self.step if top else ys[rows[0]] - self.step
            return front_point(self.v, self.f, x, y, self.skin)

        lo = front_point(self.v, self.f, x_lo - self.step, corner_lo, self.skin)
        hi = front_point(self.v, self.f, x_hi + self.step, corner_hi, self.skin)
        third = (x_hi - x_lo) / 3
        u1, u2 = lid(x_lo + third, True), lid(x_hi - third, True)
        d1, d2 = lid(x_lo + third, False), lid(x_hi - third, False)
        # Outer corner is the one farther from the midline.
        if abs(x_lo) > abs(x_hi):
            return [lo, u1, u2, hi, d2, d1], (x_lo, x_hi)
        return [hi, u2, u1, lo, d1, d2], (x_lo, x_hi)

    def brow(self, names, x_outer, x_inner, y_eye):
        """Five brow points from outer to inner end."""
        move = _moving(self.blend, self.labels, names)
        lo_x, hi_x = sorted([x_outer, x_inner])
        xs, ys, pts = _grid(lo_x - 0.01, hi_x + 0.01, y_eye + 0.005, y_eye + 0.045, self.step)
        face, bary, _ = front_hits(self.v, self.f, pts, self.skin)
        m = self._interp(move, face, bary).reshape(len(ys), len(xs))
        strong = np.flatnonzero(m.max(axis=0) > 0.3 * m.max())
        ends = (xs[strong[0]], xs[strong[-1]])
        x_out, x_in = (ends[0], ends[1]) if abs(ends[0]) > abs(ends[1]) else (ends[1], ends[0])
        inset = 0.05 * (x_in - x_out)
        out = []
        for x in np.linspace(x_out + inset, x_in - inset, 5):
            c = np.argmin(np.abs(xs - x))
            out.append(front_point(self.v, self.f, x, ys[np.argmax(m[:, c])], self.skin))
        return out

    def profile(self, y0, y1):
        ys = np.arange(y0, y1, self.step / 2)
        face, bary, z = front_hits(self.v, self.f, np.stack([np.zeros_like(ys), ys], 1), self.skin)
        return ys, z

    def mouth(self, y_nose, y_chin):
        """Outer (48-59) and inner (60-67) lip points, and the mouth-corner x extent."""
        opened = self.v + self.blend[self.labels.index("jawOpen")]
        xs, ys, pts = _grid(-0.04, 0.04, y_chin + 0.005, y_nose - 0.005, self.step / 2)
        face, bary, z = front_hits(opened, self.f, pts, self.subset)
        _, _, z_closed = front_hits(self.v, self.f, pts, self.subset)
        z = z.reshape(len(ys), len(xs))
        # Inside the opening the open mesh lies far behind the closed lips at the same pixel.
        deep = z < z_closed.reshape(z.shape) - 0.008
        # The opening: deep points with lip (shallow) surface both above and below in the column.
        opening = np.zeros_like(deep)
        for c in range(len(xs)):
            col = ~deep[:, c]
            for r in np.flatnonzero(deep[:, c]):
                if col[:r].any() and col[r + 1 :].any():
                    opening[r, c] = True
        cols = np.flatnonzero(opening.sum(axis=0) >= 2)
        x_r, x_l = xs[cols[0]], xs[cols[-1]]
        face = face.reshape(len(ys), len(xs))
        bary = bary.reshape(len(ys), len(xs), 3)

        def inner(x, top):
            c = np.argmin(np.abs(xs - x))
            rows = np.flatnonzero(opening[:, c])
            r = rows[-1] + 1 if top else rows[0] - 1
            return SurfacePoint(int(face[r, c]), bary[r, c])

        # The closed lips meet at the top of the opening (the upper lip does not move with jawOpen).
        y_mid = ys[np.flatnonzero(opening[:, np.argmin(np.abs(xs))]).max()]
        # Mouth corners: x ends of the lip slit of the closed mesh (pixels 2 mm deeper than the
        # lips 1 mm above and below), within 3 mm of the lip line.
        zc = z_closed.reshape(z.shape)
        slit = np.zeros_like(deep)
        slit[2:-2] = zc[2:-2] < np.minimum(zc[:-4], zc[4:]) - 0.002
        slit &= np.abs(ys - y_mid)[:, None] <= 0.003
        slit_cols = np.flatnonzero(slit.any(axis=0))
        if len(slit_cols) >= 2:
            x_r, x_l = xs[slit_cols[0]], xs[slit_cols[-1]]

        def corner(x):
            c = np.argmin(np.abs(xs - x))
            rows = np.flatnonzero(slit[:, c])
            y = ys[rows].mean() if len(rows) else y_mid
            return front_point(self.v, self.f, x, y, self.skin), y

        right, y_right = corner(x_r)
        left, y_left = corner(x_l)
        half = (x_l - x_r) / 2
        mid = (x_l + x_r) / 2
        inner_pts = [
            right,
            inner(mid - half / 2, True),
            inner(mid, True),
            inner(mid + half / 2, True),
            left,
            inner(mid + half / 2, False),
            inner(mid, False),
            inner(mid - half / 2, False),
        ]

        def outer(x, top):
            # Upper lip: its most protruding point (labrale superius) at this column, 1 mm up.
            # Lower lip: its lower vermilion border, where the surface steps back most steeply.
            yy = (
                np.arange(y_mid + 0.002, y_nose, 0.0005)
                if top
                else np.arange(y_mid - 0.014, y_mid - 0.002, 0.0005)
            )
            _, _, z = front_hits(self.v, self.f, np.stack([np.full_like(yy, x), yy], 1), self.skin)
            if top:
                y = yy[np.argmax(z)] + 0.001
            else:
                y = yy[np.argmax(np.gradient(z))]
            return front_point(self.v, self.f, x, y, self.skin)

        outer_pts = [
            right,
            outer(mid - 0.6 * half, True),
            outer(mid - 0.25 * half, True),
            outer(mid, True),
            outer(mid + 0.25 * half, True),
            outer(mid + 0.6 * half, True),
            left,
            outer(mid + 0.6 * half, False),
            outer(mid + 0.25 * half, False),
            outer(mid, False),
            outer(mid - 0.25 * half, False),
            outer(mid - 0.6 * half, False),
        ]
        return outer_pts, inner_pts, (x_r, x_l, (y_right + y_left) / 2)

    def contour(self, y_top, y_chin, z_min):
        """17 points along the frontal silhouette of the lower face, subject's right to left."""
        centre_y = y_top
        verts = np.unique(self.f[self.skin])
        verts = verts[(self.v[verts, 2] > z_min) & (self.v[verts, 1] <= y_top + 1e-9)]
        rel = self.v[verts, :2] - np.array([0.0, centre_y])
        ang = np.arctan2(rel[:, 1], rel[:, 0])  # -pi..pi, chin at -pi/2
        rad = np.linalg.norm(rel, axis=1)
        angles = np.linspace(-np.pi + 1e-3, -1e-3, 181)
        sil = []
        for a in angles:
            sel = np.flatnonzero(np.abs(np.angle(np.exp(1j * (ang - a)))) < np.radians(2))
            if len(sel):
                sil.append(verts[sel[np.argmax(rad[sel])]])
        sil = np.array(sil)
        # Equal arc length along the silhouette polyline.
        pts = self.v[sil, :2]
        seg = np.r_[0, np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))]
        picks = [sil[np.argmin(np.abs(seg - t))] for t in np.linspace(0, seg[-1], 17)]
        return [vertex_point(int(i), self.f) for i in picks]

    def place(self, eye_guess_r, eye_guess_l, ear_z):
        """All 68 points as SurfacePoints, index = iBUG number."""
        right_eye, (rx0, rx1) = self.eye(*eye_guess_r)
        left_eye, (lx0, lx1) = self.eye(*eye_guess_l)
        y_eye = (eye_guess_r[1] + eye_guess_l[1]) / 2
        outer_r, inner_r = (rx0, rx1) if abs(rx0) > abs(rx1) else (rx1, rx0)
        outer_l, inner_l = (lx0, lx1) if abs(lx0) > abs(lx1) else (lx1, lx0)
        brow_r = self.brow(["browDownRight"], outer_r, inner_r, y_eye)
        brow_l = self.brow(["browDownLeft"], outer_l, inner_l, y_eye)
        y_brow = np.mean([p.position(self.v, self.f)[1] for p in brow_r + brow_l])
        ys, z = self.profile(y_eye - 0.09, y_brow)
        band = (ys > y_eye - 0.06) & (ys < y_eye - 0.005)
        tip_y = ys[band][np.argmax(z[band])]
        band = (ys >= y_eye - 0.004) & (ys <= y_brow)
        nasion_y = ys[band][np.argmin(z[band])]
        band = (ys < tip_y - 0.004) & (ys > tip_y - 0.02)
        sub_y = ys[band][np.argmin(z[band])]
        bridge = [
            front_point(self.v, self.f, 0.0, y, self.skin) for y in np.linspace(nasion_y, tip_y, 4)
        ]
        inter = abs(inner_l - inner_r) / 2
        nostrils = [
            front_point(self.v, self.f, x, sub_y + dy, self.skin)
            for x, dy in (
                (-0.8 * inter, 0.003),
                (-0.4 * inter, 0.0015),
                (0.0, 0.0),
                (0.4 * inter, 0.0015),
                (0.8 * inter, 0.003),
            )
        ]
        y_chin = self.v[np.unique(self.f[self.skin]), 1].min()
        outer_m, inner_m, _ = self.mouth(sub_y, y_chin)
        contour = self.contour(y_eye - 0.005, y_chin, ear_z)
        points = contour + brow_r + brow_l[::-1] + bridge + nostrils + right_eye
        # Left eye order: inner corner, upper (inner->outer), outer corner, lower (outer->inner).
        o, u_out, u_in, i, d_in, d_out = left_eye
        points += [i, u_in, u_out, o, d_out, d_in]
        return points + outer_m + inner_m
