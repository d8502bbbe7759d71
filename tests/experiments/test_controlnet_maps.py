"""The controlnet_maps command: pose maps + JSON, depth and normal maps, clear errors."""

import json

import numpy as np
import pytest
import trimesh
from PIL import Image

from experiments import controlnet_maps
from wholebody.controlnet import pose_map
from wholebody.keypoints import COCO_WHOLEBODY


def _pose_npz(path, T=4, size=(200, 328)):
    rng = np.random.default_rng(0)
    base = rng.uniform(20, 180, (2, 133, 2)).astype(np.float32)
    kp = base[None] + rng.normal(0, 1.0, (T, 2, 133, 2)).astype(np.float32)
    sc = np.full((T, 2, 133), 0.9, np.float32)
    sc[:, 1, COCO_WHOLEBODY.parts["face"]] = 0.1
    np.savez(path, keypoints=kp, scores=sc, image_size=np.array(size))
    return kp, sc


def test_pose_maps_command(tmp_path):
    kp, sc = _pose_npz(tmp_path / "kp.npz")
    out = tmp_path / "out"
    assert controlnet_maps.main([str(tmp_path / "kp.npz"), "--out", str(out)]) == 0
    pngs = sorted(out.glob("pose_*.png"))
    assert [p.name for p in pngs] == [f"pose_{t:05d}.png" for t in range(4)]
    assert np.asarray(Image.open(pngs[0])).shape == (200, 328, 3)  # exactly image_size
    frames = json.loads((out / "openpose.json").read_text())
    assert len(frames) == 4 and len(frames[2]["people"]) == 2
    face = np.reshape(frames[0]["people"][1]["face_keypoints_2d"], (70, 3))
    assert not face[:68].any() and np.all(face[68:, 2] == 1.0)  # only the body eyes present
    assert (out / "pose.mp4").stat().st_size > 0
    assert (out / "config.json").is_file() and len((out / "metrics.jsonl").read_text().split()) >= 4
    # Unsmoothed output equals the library's map of the raw keypoints.
    raw = tmp_path / "raw"
    controlnet_maps.main([str(tmp_path / "kp.npz"), "--out", str(raw), "--smooth", "none",
                          "--no-video"])  # fmt: skip
    np.testing.assert_array_equal(np.asarray(Image.open(raw / "pose_00001.png")),
                                  pose_map(kp[1], sc[1], (200, 328)))  # fmt: skip
    assert not (raw / "pose.mp4").exists()
    res = tmp_path / "res"
    controlnet_maps.main([str(tmp_path / "kp.npz"), "--out", str(res), "--resolution", "256"])
    assert np.asarray(Image.open(res / "pose_00000.png")).shape == (256, 448, 3)
    assert json.loads((res / "openpose.json").read_text())[0]["canvas_width"] == 448


def test_depth_and_normal_commands(tmp_path):
    sphere = trimesh.creation.icosphere(3)
    verts = np.stack([sphere.vertices * 0.3 + [0.05 * t, 0, 3] for t in range(3)])
    np.savez(tmp_path / "mesh.npz", vertices=verts, faces=sphere.faces)
    for kind in ("depth", "normal"):
        out = tmp_path / kind
        controlnet_maps.main([str(tmp_path / "mesh.npz"), "--out", str(out), "--kind", kind,
                              "--resolution", "128"])  # fmt: skip
        img = np.asarray(Image.open(out / f"{kind}_00000.png"))
        assert img.shape[0] % 8 == 0 and img.shape[1] % 8 == 0 and max(img.shape[:2]) == 128
        assert img.any() and (out / f"{kind}.mp4").is_file()
    cam = {"fx": 100.0, "fy": 100.0, "cx": 31.5, "cy": 23.5, "width": 64, "height": 48}
    (tmp_path / "cam.json").write_text(json.dumps(cam))
    out = tmp_path / "cam"
    controlnet_maps.main([str(tmp_path / "mesh.npz"), "--out", str(out), "--kind", "normal",
                          "--camera", str(tmp_path / "cam.json"), "--no-video"])  # fmt: skip
    img = np.asarray(Image.open(out / "normal_00000.png"))
    assert img.shape == (48, 64, 3)
    # The sphere's centre faces the camera: (128, 128, 255) at the principal point.
    assert np.abs(img[24, 32].astype(int) - [128, 128, 255]).max() <= 8  # coarse sphere


def test_command_errors(tmp_path, capsys):
    np.savez(tmp_path / "bad.npz", keypoints=np.zeros((2, 1, 17, 2)), scores=np.zeros((2, 1, 17)),
             image_size=np.array([64, 64]))  # fmt: skip
    for argv, message in [
        ([str(tmp_path / "missing.npz")], "not found"),
        ([str(tmp_path / "bad.npz")], "133"),
        ([str(tmp_path / "bad.npz"), "--resolution", "0"], "positive"),
    ]:
        with pytest.raises(SystemExit) as exc:
            controlnet_maps.main([*argv, "--out", str(tmp_path / "o")])
        assert exc.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.slow  # JAX compile of the body forward pass (~15 s)
def test_depth_from_fitting_output_lines_up_with_its_keypoints(tmp_path):
    from body_models.forward import body_forward
    from body_models.model_file import load_model_file
    from body_models.synthetic import random_model_file
    from wholebody.controlnet import framing_camera

    random_model_file(tmp_path / "model.npz")
    T = 2
    params = {
        "betas": np.zeros(10),
        "global_orient": np.tile([np.pi, 0.0, 0.0], (T, 1)),  # upright in the camera frame
        "transl": np.tile([0.0, 0.0, 3.0], (T, 1)),
        "body_pose": np.zeros((T, 63)),
    }
    body = body_forward(load_model_file(tmp_path / "model.npz"), params, vertices=True)
    np.savez(
        tmp_path / "fit.npz",
        model=str(tmp_path / "model.npz"),
        joints=body.joints,
        keypoints3d=body.keypoints,
        **params,
    )  # as fit_sequence writes it
    out = tmp_path / "depth"
    controlnet_maps.main([str(tmp_path / "fit.npz"), "--out", str(out), "--kind", "depth",
                          "--no-video"])  # fmt: skip
    depth = np.asarray(Image.open(out / "depth_00000.png"))[..., 0]
    cam = framing_camera(body.vertices, resolution=512)
    assert depth.shape == (cam.height, cam.width)
    uv = cam.project_world(body.keypoints[0, COCO_WHOLEBODY.parts["body"]])
    mask = np.pad(depth > 0, 2)  # a 2 px tolerance ring
    near = [mask[int(round(v)) : int(round(v)) + 5, int(round(u)) : int(round(u)) + 5].any()
            for u, v in uv]  # fmt: skip
    assert np.mean(near) >= 0.9


def test_pose_depth_normal_of_one_fit_line_up(tmp_path):
    """A fit-like npz (vertices, faces, keypoints3d): pose maps use the depth maps' camera."""
    rng = np.random.default_rng(4)
    kp3d = rng.uniform([-0.5, -0.9, -0.2], [0.5, 0.9, 0.2], (2, 133, 3)) + [0, 0, 3.0]
    ball = trimesh.creation.icosphere(1)
    verts = np.stack([np.concatenate([ball.vertices * 0.02 + p for p in frame]) for frame in kp3d])
    faces = np.concatenate([ball.faces + k * len(ball.vertices) for k in range(133)])
    np.savez(tmp_path / "fit.npz", vertices=verts, faces=faces, keypoints3d=kp3d)
    outs = {}
    for kind in ("pose", "depth"):
        outs[kind] = tmp_path / kind
        controlnet_maps.main([str(tmp_path / "fit.npz"), "--out", str(outs[kind]), "--kind",
                              kind, "--no-video", "--smooth", "none"])  # fmt: skip
    pose = np.asarray(Image.open(outs["pose"] / "pose_00001.png"))
    depth = np.asarray(Image.open(outs["depth"] / "depth_00001.png"))[..., 0]
    assert pose.shape[:2] == depth.shape
    person = json.loads((outs["pose"] / "openpose.json").read_text())[1]["people"][0]
    body = np.reshape(person["pose_keypoints_2d"], (18, 3))
    body = np.delete(body, 1, axis=0)  # the neck is not on the mesh (mid-shoulders)
    assert np.all(body[:, 2] == 1.0)
    on_mesh = depth[np.round(body[:, 1]).astype(int), np.round(body[:, 0]).astype(int)] > 0
    assert on_mesh.all()
