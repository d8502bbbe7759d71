"""SMPL-X forward maths in JAX: blend shapes, pose correctives, kinematics, skinning.

Written from the SMPL (Loper et al., SIGGRAPH Asia 2015) and SMPL-X (Pavlakos et al., CVPR 2019)
papers: ``T(β, ψ, θ) = T̄ + B_S(β) + B_E(ψ) + B_P(θ)``, joints ``J(β, ψ) = 𝒥 T_shaped``, world
transforms by forward kinematics, vertices by linear blend skinning with ``W``.

``LBSArrays`` holds only the vertices a caller needs (all of them for meshes, the few under the
133 keypoints for fitting), so one code path serves both.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from body_models.model_file import ModelData


class LBSArrays(NamedTuple):
    """Model arrays for a vertex subset ``U`` (float32 jax arrays; a pytree).

    j_template ``(55, 3)``, j_shapedirs ``(55, 3, S)``, j_exprdirs ``(55, 3, E)``: joint regressor
    applied to template and bases; v_template ``(U, 3)``, shapedirs ``(U, 3, S)``, exprdirs
    ``(U, 3, E)``, posedirs ``(486, U*3)``, weights ``(U, 55)``.
    """

    j_template: jax.Array
    j_shapedirs: jax.Array
    j_exprdirs: jax.Array
    v_template: jax.Array
    shapedirs: jax.Array
    exprdirs: jax.Array
    posedirs: jax.Array
    weights: jax.Array


class KeypointArrays(NamedTuple):
    """133-keypoint map on a vertex subset: joint ids (-1 = surface), local vertex ids, bary."""

    joint_ids: jax.Array  # (K,) int32, clipped to >= 0
    is_joint: jax.Array  # (K,) bool
    vertex_ids: jax.Array  # (K, 3) int32 indices into the subset
    bary: jax.Array  # (K, 3)


def kinematic_levels(parents: np.ndarray) -> tuple[tuple[int, ...], ...]:
    """Joints grouped by tree depth (root level first), for level-parallel kinematics."""
    depth = np.zeros(len(parents), dtype=int)
    for j in range(1, len(parents)):
        depth[j] = depth[parents[j]] + 1
    return tuple(tuple(np.nonzero(depth == d)[0].tolist()) for d in range(depth.max() + 1))


def keypoint_vertices(model: ModelData) -> np.ndarray:
    """Sorted unique vertex ids under the surface keypoints."""
    surf = model.kpt_joint_ids < 0
    return np.unique(model.faces[model.kpt_face_ids[surf]].ravel())


def make_lbs_arrays(model: ModelData, vertex_ids: np.ndarray | None = None) -> LBSArrays:
    """Precompute joint bases and slice vertex arrays (``None`` = all vertices)."""
    ids = np.arange(model.num_vertices) if vertex_ids is None else np.asarray(vertex_ids)
    P = model.posedirs.shape[2]
    f32 = np.float32
    return LBSArrays(
        j_template=jnp.asarray(model.J_regressor @ model.v_template, f32),
        j_shapedirs=jnp.asarray(np.einsum("jv,vcs->jcs", model.J_regressor, model.shapedirs), f32),
        j_exprdirs=jnp.asarray(np.einsum("jv,vcs->jcs", model.J_regressor, model.exprdirs), f32),
        v_template=jnp.asarray(model.v_template[ids], f32),
        shapedirs=jnp.asarray(model.shapedirs[ids], f32),
        exprdirs=jnp.asarray(model.exprdirs[ids], f32),
        posedirs=jnp.asarray(model.posedirs[ids].reshape(-1, P).T, f32),
        weights=jnp.asarray(model.weights[ids], f32),
    )


def make_keypoint_arrays(model: ModelData, vertex_ids: np.ndarray | None = None) -> KeypointArrays:
    """Keypoint map with vertex ids re-indexed into ``vertex_ids`` (``None`` = all vertices)."""
    surf = model.kpt_joint_ids < 0
    tri = np.zeros((len(model.kpt_joint_ids), 3), dtype=np.int64)
    tri[surf] = model.faces[model.kpt_face_ids[surf]]
    if vertex_ids is not None:
        lookup = np.full(model.num_vertices, -1, dtype=np.int64)
        lookup[np.asarray(vertex_ids)] = np.arange(len(vertex_ids))
        tri = np.where(surf[:, None], lookup[tri], 0)
        if np.any(tri < 0):
            raise ValueError("make_keypoint_arrays: vertex_ids miss keypoint vertices")
    return KeypointArrays(
        joint_ids=jnp.asarray(np.maximum(model.kpt_joint_ids, 0), jnp.int32),
        is_joint=jnp.asarray(~surf),
        vertex_ids=jnp.asarray(tri, jnp.int32),
        bary=jnp.asarray(model.kpt_bary, jnp.float32),
    )


def rodrigues(axis_angle: jax.Array) -> jax.Array:
    """``(..., 3)`` axis-angle -> ``(..., 3, 3)``; R = I + sinθ/θ K + (1-cosθ)/θ² K² (safe at 0)."""
    x, y, z = axis_angle[..., 0], axis_angle[..., 1], axis_angle[..., 2]
    theta2 = x * x + y * y + z * z
    small = theta2 < 1e-8
    safe2 = jnp.where(small, 1.0, theta2)
    theta = jnp.sqrt(safe2)
    a = jnp.where(small, 1.0 - theta2 / 6.0, jnp.sin(theta) / theta)
    b = jnp.where(small, 0.5 - theta2 / 24.0, (1.0 - jnp.cos(theta)) / safe2)
    zero = jnp.zeros_like(x)
    K = jnp.stack([zero, -z, y, z, zero, -x, -y, x, zero], -1).reshape(axis_angle.shape + (3,))
    eye = jnp.eye(3, dtype=axis_angle.dtype)
    return eye + a[..., None, None] * K + b[..., None, None] * (K @ K)


def forward_kinematics(
    rot: jax.Array, rest_joints: jax.Array, parents: np.ndarray, levels
) -> tuple[jax.Array, jax.Array]:
    """World rotations/positions of joints.

    Args:
        rot: ``(B, J, 3, 3)`` local rotations.
        rest_joints: ``(B, J, 3)`` rest joint positions.
        parents: ``(J,)`` numpy parent ids; levels: ``kinematic_levels(parents)``.

    Returns:
        ``(B, J, 3, 3)`` world rotations and ``(B, J, 3)`` posed joint positions.
    """
    J = rot.shape[1]
    par = np.maximum(np.asarray(parents), 0)
    rel = rest_joints - jnp.where(np.asarray(parents)[:, None] >= 0, rest_joints[:, par], 0.0)
    g_rot = [None] * J
    g_pos = [None] * J
    for level in levels:
        idx = np.asarray(level)
        if parents[idx[0]] < 0:
            r, p = rot[:, idx], rest_joints[:, idx]
        else:
            pidx = par[idx]
            pr = jnp.stack([g_rot[i] for i in pidx], 1)
            pp = jnp.stack([g_pos[i] for i in pidx], 1)
            r = pr @ rot[:, idx]
            p = pp + jnp.einsum("bkmn,bkn->bkm", pr, rel[:, idx])
        for k, j in enumerate(level):
            g_rot[j], g_pos[j] = r[:, k], p[:, k]
    return jnp.stack(g_rot, 1), jnp.stack(g_pos, 1)


def shaped_rest(
    arrays: LBSArrays, betas: jax.Array, expression: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """Rest joints ``(B, 55, 3)`` and vertices ``(B, U, 3)`` with shape and expression blend shapes.

    Args:
        betas: ``(B, S)`` or ``(S,)`` (shared); expression ``(B, E)``.
    """
    B = expression.shape[0]
    betas = jnp.broadcast_to(betas, (B, arrays.shapedirs.shape[2]))
    rest_j = (
        arrays.j_template
        + jnp.einsum("jcs,bs->bjc", arrays.j_shapedirs, betas)
        + jnp.einsum("jcs,bs->bjc", arrays.j_exprdirs, expression)
    )
    v_shaped = (
        arrays.v_template
        + jnp.einsum("vcs,bs->bvc", arrays.shapedirs, betas)
        + jnp.einsum("vcs,bs->bvc", arrays.exprdirs, expression)
    )
    return rest_j, v_shaped


def lbs(
    arrays: LBSArrays,
    parents: np.ndarray,
    levels,
    betas: jax.Array,
    expression: jax.Array,
    full_pose: jax.Array,
    transl: jax.Array,
) -> tuple[jax.Array, jax.Array]:
    """Posed joints and vertices of the subset.

    Args:
        betas: ``(B, S)`` or ``(S,)`` (shared); expression ``(B, E)``;
        full_pose: ``(B, 55, 3)`` axis-angle (global, body, jaw, eyes, hands);
        transl: ``(B, 3)`` added after skinning.

    Returns:
        joints ``(B, 55, 3)`` and vertices ``(B, U, 3)`` in metres.
    """
    B = full_pose.shape[0]
    rest_j, v_shaped = shaped_rest(arrays, betas, expression)
    rot = rodrigues(full_pose)  # (B, 55, 3, 3)
    v_posed = v_shaped
    if arrays.posedirs.shape[0]:  # an empty posedirs skips pose correctives
        pose_feat = (rot[:, 1:] - jnp.eye(3, dtype=rot.dtype)).reshape(B, -1)
        v_posed = v_shaped + (pose_feat @ arrays.posedirs).reshape(v_shaped.shape)
    g_rot, g_pos = forward_kinematics(rot, rest_j, parents, levels)
    # Skinning transform per joint maps rest space to posed space: x -> R_g x + (p_g - R_g j_rest).
    g_t = g_pos - jnp.einsum("bjmn,bjn->bjm", g_rot, rest_j)
    T_rot = jnp.einsum("vj,bjmn->bvmn", arrays.weights, g_rot)
    T_t = jnp.einsum("vj,bjm->bvm", arrays.weights, g_t)
    verts = jnp.einsum("bvmn,bvn->bvm", T_rot, v_posed) + T_t
    return g_pos + transl[:, None], verts + transl[:, None]


def keypoints_from(joints: jax.Array, verts: jax.Array, kmap: KeypointArrays) -> jax.Array:
    """``(B, K, 3)`` keypoints: joints where mapped, else barycentric surface points."""
    from_joints = joints[:, kmap.joint_ids]
    tri = verts[:, kmap.vertex_ids]  # (B, K, 3, 3)
    from_surface = jnp.einsum("bkac,ka->bkc", tri, kmap.bary)
    return jnp.where(kmap.is_joint[None, :, None], from_joints, from_surface)
