"""Run in Blender: ``blender -b --python blender_probe.py -- IN OUT.json FRAMES [FPS|-] [JSON]``.

Imports a BVH, FBX or GLB file and writes JSON: armature bone count, scene frame range,
fps, and the world position of every bone head on the requested frames (Blender's own
evaluation of the imported animation). Blender's Python has no numpy: plain lists only.
"""

import builtins
import json
import sys

import bpy

_open = builtins.open


def _open_no_u(file, mode="r", *args, **kwargs):  # Blender 3.4's BVH importer passes 'rU'
    return _open(file, mode.replace("U", ""), *args, **kwargs)


builtins.open = _open_no_u

argv = sys.argv[sys.argv.index("--") + 1 :]
src, dst, frames = argv[0], argv[1], [int(f) for f in argv[2].split(",")]
bpy.ops.wm.read_factory_settings(use_empty=True)
if len(argv) > 3 and argv[3] != "-":  # glTF maps seconds to frames at the scene rate
    bpy.context.scene.render.fps = int(argv[3])
    bpy.context.scene.render.fps_base = 1.0
options = json.loads(argv[4]) if len(argv) > 4 else {}  # extra importer keyword arguments
ext = src.rsplit(".", 1)[-1].lower()
if ext == "bvh":
    bpy.ops.import_anim.bvh(
        filepath=src, update_scene_fps=True, update_scene_duration=True, **options
    )
elif ext == "fbx":
    bpy.ops.import_scene.fbx(filepath=src, **options)
elif ext in ("glb", "gltf"):
    bpy.ops.import_scene.gltf(filepath=src, **options)
else:
    raise SystemExit(f"unknown extension {ext}")
arms = [o for o in bpy.data.objects if o.type == "ARMATURE"]
meshes = [o for o in bpy.data.objects if o.type == "MESH"]
scene = bpy.context.scene
out = {
    "bones": [b.name for b in arms[0].data.bones] if arms else [],
    "frame_start": scene.frame_start,
    "frame_end": scene.frame_end,
    "fps": scene.render.fps / scene.render.fps_base,
    "mesh_vertices": [len(m.data.vertices) for m in meshes],
    "actions": [a.name for a in bpy.data.actions],
    "action_range": [list(a.frame_range) for a in bpy.data.actions],
    "heads": {},
}
if arms:
    arm = arms[0]
    for f in frames:
        scene.frame_set(f)
        mw = arm.matrix_world
        out["heads"][str(f)] = {pb.name: list(mw @ pb.head) for pb in arm.pose.bones}
if meshes:  # evaluated (skinned) vertex positions of the first mesh, world frame
    out["mesh"] = {}
    for f in frames:
        scene.frame_set(f)
        obj = meshes[0].evaluated_get(bpy.context.evaluated_depsgraph_get())
        mw = obj.matrix_world
        out["mesh"][str(f)] = [list(mw @ v.co) for v in obj.data.vertices]
with _open(dst, "w") as fh:
    json.dump(out, fh)
