"""Keypoint sets, conversions by name and flips. Pure numpy: importing this never imports torch.

Sets: ``coco`` (17), ``coco_wholebody`` (133), ``h36m`` (17, with parents), ``openpose18``
(ControlNet body), ``body25`` and ``smplx`` (55 skeleton joints with parents).
"""

from wholebody.keypoints.base import PART_NAMES, KeypointSet, mirror_name, part_of
from wholebody.keypoints.coco import COCO, COCO_WHOLEBODY
from wholebody.keypoints.convert import SYNTHESIZED, Synthesized, conversion_plan, convert_keypoints
from wholebody.keypoints.flip import flip_keypoints
from wholebody.keypoints.openpose import BODY25, OPENPOSE18
from wholebody.keypoints.skeletons import H36M, SMPLX
from wholebody.keypoints.validate import check_keypoints, check_scores

KEYPOINT_SETS: dict[str, KeypointSet] = {
    s.name: s for s in (COCO, COCO_WHOLEBODY, H36M, OPENPOSE18, BODY25, SMPLX)
}


def get_keypoint_set(name: str | KeypointSet) -> KeypointSet:
    """A set by registry name (or the set itself); ValueError listing known names."""
    if isinstance(name, KeypointSet):
        return name
    try:
        return KEYPOINT_SETS[name]
    except KeyError:
        raise ValueError(
            f"unknown keypoint set {name!r}, expected one of {sorted(KEYPOINT_SETS)}"
        ) from None


__all__ = [
    "BODY25",
    "COCO",
    "COCO_WHOLEBODY",
    "H36M",
    "KEYPOINT_SETS",
    "OPENPOSE18",
    "PART_NAMES",
    "SMPLX",
    "SYNTHESIZED",
    "KeypointSet",
    "Synthesized",
    "check_keypoints",
    "check_scores",
    "conversion_plan",
    "convert_keypoints",
    "flip_keypoints",
    "get_keypoint_set",
    "mirror_name",
    "part_of",
]
