"""Real data: CMU mocap 01_01 + 01_03 (Debian assimp-testmodels) through random virtual cameras.

A tiny lifter trained on the first 80 % of each recording must beat the mean training pose
on the held-out last 20 % (new frames, new cameras). Measured on the shared 2-core dev
machine (tiny preset, 9-frame clips, 24 epochs, ~5 min): held-out protocol-1 MPJPE 114.6 mm
(every frame) vs 190.9 mm for the mean training pose. Bounds: MPJPE < 150 mm and < 0.75 x the
mean-pose baseline.
"""

import json

import numpy as np
import pytest

from experiments.cmu_mocap import DEFAULT_BVH, load_cmu_h36m

pytestmark = pytest.mark.skipif(
    not all(p.is_file() for p in DEFAULT_BVH),
    reason="needs Debian assimp-testmodels (apt-get install assimp-testmodels; make test-all)",
)


def test_cmu_files_give_plausible_h36m_skeletons():
    world = load_cmu_h36m(DEFAULT_BVH[0], fps=30)
    assert world.shape == (688, 17, 3)  # 2752 frames at 120 fps -> every 4th
    height = world[:, :, 1].max(axis=1) - world[:, :, 1].min(axis=1)  # y is up
    assert 1.2 < np.median(height) < 1.9
    femur = np.linalg.norm(world[:, 1] - world[:, 2], axis=-1)
    np.testing.assert_allclose(femur, femur[0], rtol=1e-6)  # rigid bones
    # y-up world seen by virtual cameras: the person stands upright in every image
    from lifting.data import virtual_camera_sequences
    from wholebody.keypoints import H36M

    for seq in virtual_camera_sequences([world], 4, np.random.default_rng(0)):
        head = seq.keypoints2d[:, H36M.index("head"), 1]
        ankle = seq.keypoints2d[:, H36M.index("left_ankle"), 1]
        assert np.all(head < ankle) and np.all(seq.keypoints3d[..., 2] > 1.0)


@pytest.mark.slow
def test_tiny_lifter_learns_cmu_motion(tmp_path):
    from experiments.eval_h36m import predict_sequences
    from experiments.train_lifter import build_parser, cmu_sequences, main
    from lifting.data import sequence_target
    from lifting.protocol import evaluate_sequences

    argv = ["--cmu", "--preset", "tiny", "--clip-len", "9", "--stride", "9", "--lr", "2e-3"]
    argv += ["--batch-size", "32", "--epochs", "24", "--name", "cmu", "--runs-dir", str(tmp_path)]
    assert main(argv) == 0
    run = tmp_path / "cmu"
    assert json.loads((run / "config.json").read_text())["meta"]["input_norm"] == "screen"
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 24

    # Held-out protocol-1 on every frame of the held-out sequences (same seed -> same cameras).
    train_seqs, val_seqs = cmu_sequences(build_parser().parse_args(argv))
    preds = predict_sequences(run / "checkpoints" / "last", val_seqs, flip_tta=False)
    gts = {s.name: s.keypoints3d for s in val_seqs}
    actions = {s.name: s.action for s in val_seqs}
    table = evaluate_sequences(preds, gts, actions, metrics=("mpjpe", "p_mpjpe"))
    mpjpe_mm = 1000 * table.average("mpjpe")

    mean_pose = np.concatenate([sequence_target(s) for s in train_seqs]).mean(axis=0)
    baseline = {k: np.broadcast_to(mean_pose, g.shape) for k, g in gts.items()}
    base_mm = 1000 * evaluate_sequences(baseline, gts, actions, metrics=("mpjpe",)).average("mpjpe")
    print(f"held-out MPJPE {mpjpe_mm:.1f} mm, mean-pose baseline {base_mm:.1f} mm")
    assert mpjpe_mm < 150.0
    assert mpjpe_mm < 0.75 * base_mm
