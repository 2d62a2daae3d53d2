# FSANet with geometric offsets (our design, not the paper's): SAGH's
# deformable grids placed on the coarse rotated box (S2ANet's AlignConv)
# instead of learned from the raw coarse output.
_base_ = './fsanet_r50_1x_synthetic_le90.py'
model = dict(bbox_head=dict(offset_mode='geometric'))
