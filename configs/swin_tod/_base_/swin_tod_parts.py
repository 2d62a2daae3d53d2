# The three parts of SWIN-TOD ("SWIN-TOD: Smooth Wasserstein Distance and
# Instance-level Neighboring Enhancement for Remote Sensing Tiny Object
# Detection", IEEE TGRS 2024), made oriented, each defined once and used by
# the model configs of this folder through {{_base_.name}}.

# Receptive-field RPN (RFLA, C. Xu et al., ECCV 2022): anchors of side
# 0.5 x TRF of the detector's backbone per level (filled in by the
# ReceptiveField* detectors), ratios 0.5/1/2; hierarchical KLD assignment on
# the rotated GTs: top-3, negatives below 0.8, then top-1 on 0.9x priors.
# (`_delete_`: they replace, not update, the base detector's generator and
# assigner.)
swin_tod_anchor_generator = dict(
    _delete_=True,
    type='ReceptiveFieldAnchorGenerator',
    strides=[4, 8, 16, 32, 64],
    ratios=[0.5, 1.0, 2.0],
    fraction=0.5)
swin_tod_rpn_assigner = dict(
    _delete_=True,
    type='RFLAHierarchicalAssigner', topk=(3, 1), ratio=0.9, neg_thr=0.8)

# Smooth Wasserstein loss on the encoded deltas (the released configs'
# SmoothL1 -> SWL swap, same beta): 1/9 in the RPN, 1.0 in the RoI stages.
swin_tod_rpn_loss_bbox = dict(
    type='SmoothWassersteinLoss', space='delta', beta=1.0 / 9.0,
    loss_weight=1.0)
swin_tod_roi_loss_bbox = dict(
    type='SmoothWassersteinLoss', space='delta', beta=1.0, loss_weight=1.0)

# INEN: graph over same-class RoIs, 0.7 CE + 0.3 graph CE in training,
# 0.9 logits + 0.1 log_softmax(graph logits) at test.
swin_tod_inen = dict(
    type='INENBBoxHead',
    graph_channels=256,
    graph_direction='official',
    graph_dropout=0.5,
    max_test_nodes=512,
    test_mix=(0.9, 0.1),
    aug_test_mix=(0.7, 0.3),
    cross_image=False,
    detach_edges=True,
    loss_cls=dict(
        type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.7),
    loss_graph=dict(
        type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.3))
