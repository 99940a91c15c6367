"""Training-only heads on the vision tower: dense targets the generator knows for free.

Trained from scratch end to end, a tiny VLM learns the answer formats and then
ignores the image. Teaching the encoder first what is where (per-patch colour and
shape, the box of the object a patch belongs to, the object count, and each
object's shape and colour from its own patches) gives the decoder features worth
reading. These heads are not part of the exported model.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class DenseHeads(nn.Module):
    def __init__(self, width, colours=8, shapes=6, max_count=5):
        super().__init__()
        self.patch_colour = nn.Linear(width, colours + 1)
        self.patch_shape = nn.Linear(width, shapes + 1)
        self.patch_box = nn.Linear(width, 4)
        # Shape is a property of a whole object, not of a patch: classify the
        # object's coverage-weighted mean feature through a small MLP.
        self.obj_shape = nn.Sequential(nn.Linear(width, width), nn.GELU(), nn.Linear(width, shapes))
        self.obj_colour = nn.Linear(width, colours)
        self.count = nn.Sequential(nn.Linear(width, width), nn.GELU(), nn.Linear(width, max_count + 1))

    def loss(self, feats, targets):
        """feats: (B, N, C) patch features of scene images; targets: one dict per image (data.patch_targets)."""
        dev = feats.device
        colour = torch.stack([torch.from_numpy(t["colour"]) for t in targets]).to(dev)   # (B, N)
        shape = torch.stack([torch.from_numpy(t["shape"]) for t in targets]).to(dev)
        box = torch.stack([torch.from_numpy(t["box"]) for t in targets]).to(dev)         # (B, N, 4)
        fg = (colour > 0).float()
        # Background patches are most of an image; down-weight them so objects dominate.
        w = fg + 0.1 * (1 - fg)
        # Patches of a held-out object (a split that shows the concept unlabelled) get no colour or shape label.
        unlabelled = torch.stack([torch.from_numpy(t["unlabelled"]) if "unlabelled" in t
                                  else torch.zeros(colour.shape[1], dtype=torch.bool) for t in targets]).to(dev)
        w_label = w * (~unlabelled).float()
        ce = lambda logits, y: ((F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="none") * w_label.flatten()).sum()
                                / w_label.sum().clamp(min=1e-6))
        l_colour = ce(self.patch_colour(feats), colour)
        l_shape = ce(self.patch_shape(feats), shape)
        l_box = (F.smooth_l1_loss(self.patch_box(feats), box * 10, reduction="none").sum(-1) * fg).sum() / fg.sum().clamp(min=1)
        count = torch.tensor([t["count"] for t in targets], device=dev)
        l_count = F.cross_entropy(self.count(feats.mean(1)), count)
        obj_feats, obj_shape, obj_colour = [], [], []
        for b, t in enumerate(targets):
            if t["count"] == 0:
                continue
            keep = ~torch.from_numpy(t["obj_unlabelled"]) if "obj_unlabelled" in t else torch.ones(t["count"], dtype=torch.bool)
            if not bool(keep.any()):
                continue
            cover = torch.from_numpy(t["cover"]).to(dev)[keep]                             # (objects, N)
            obj_feats.append((cover @ feats[b]) / cover.sum(1, keepdim=True).clamp(min=1e-6))
            obj_shape.append(torch.from_numpy(t["obj_shape"])[keep])
            obj_colour.append(torch.from_numpy(t["obj_colour"])[keep])
        if not obj_feats:
            return l_colour + l_shape + l_box + l_count, {"colour": l_colour.item(), "shape": l_shape.item(),
                                                          "box": l_box.item(), "count": l_count.item(), "obj": 0.0}
        of = torch.cat(obj_feats)
        l_obj = F.cross_entropy(self.obj_shape(of), torch.cat(obj_shape).to(dev)) + \
            F.cross_entropy(self.obj_colour(of), torch.cat(obj_colour).to(dev))
        total = l_colour + l_shape + l_box + l_count + l_obj
        return total, {"colour": l_colour.item(), "shape": l_shape.item(), "box": l_box.item(),
                       "count": l_count.item(), "obj": l_obj.item()}
