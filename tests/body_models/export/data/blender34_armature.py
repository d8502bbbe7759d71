"""Blender script that wrote blender34_armature.fbx (run with ``blender -b --python``)."""

import bpy

bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.object.armature_add(location=(0, 0, 0))
arm = bpy.context.object
bpy.ops.object.mode_set(mode="EDIT")
b1 = arm.data.edit_bones[0]
b1.name = "root"
b2 = arm.data.edit_bones.new("child")
b2.head, b2.tail, b2.parent = (0, 0, 1), (0, 0, 2), b1
bpy.ops.object.mode_set(mode="POSE")
for f in (1, 10):
    bpy.context.scene.frame_set(f)
    pb = arm.pose.bones["child"]
    pb.rotation_mode = "XYZ"
    pb.rotation_euler = (0.1 * f, 0, 0)
    pb.keyframe_insert("rotation_euler")
bpy.ops.object.mode_set(mode="OBJECT")
bpy.ops.mesh.primitive_cube_add(size=0.5, location=(0, 0, 1.5))
cube = bpy.context.object
cube.parent = arm
mod = cube.modifiers.new("Armature", "ARMATURE")
mod.object = arm
vg = cube.vertex_groups.new(name="child")
vg.add(list(range(8)), 1.0, "REPLACE")
bpy.context.scene.frame_end = 10
bpy.ops.export_scene.fbx(
    filepath="blender34_armature.fbx", add_leaf_bones=False, bake_anim_simplify_factor=0.0
)
