"""Random whole-body poses (COCO-WholeBody 133) for drawing tests, seeded."""

from __future__ import annotations

import numpy as np

from wholebody.keypoints import COCO_WHOLEBODY


def random_people(rng: np.random.Generator, n: int, height: int, width: int):
    """``(n, 133, 2)`` float32 pixels and ``(n, 133)`` float32 scores.

    Bodies are scattered over (and a little beyond) the canvas; face landmarks cluster around
    the nose and hands around the wrists, as real poses do; scores are uniform in [0, 1] with
    some exactly 0.3 (the threshold) and some points pushed outside the canvas.
    """
    kp = np.zeros((n, 133, 2), np.float32)
    size = np.array([width, height], np.float32)
    parts = COCO_WHOLEBODY.parts
    for p in range(n):
        centre = rng.uniform(-0.1, 1.1, 2) * size
        scale = rng.uniform(0.1, 0.6) * min(height, width)
        kp[p] = centre + rng.normal(0, scale, (133, 2))
        nose = kp[p, COCO_WHOLEBODY.index("nose")]
        kp[p, parts["face"]] = nose + rng.normal(0, scale * 0.08, (68, 2))
        for side in ("left", "right"):
            wrist = kp[p, COCO_WHOLEBODY.index(f"{side}_wrist")]
            kp[p, parts[f"{side}_hand"]] = wrist + rng.normal(0, scale * 0.1, (21, 2))
    scores = rng.uniform(0, 1, (n, 133)).astype(np.float32)
    scores[rng.uniform(size=scores.shape) < 0.05] = np.float32(0.3)
    outside = rng.uniform(size=(n, 133)) < 0.03
    kp[outside] = rng.uniform(-0.5, 1.5, (outside.sum(), 2)).astype(np.float32) * size
    return kp.astype(np.float32), scores
