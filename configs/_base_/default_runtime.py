custom_imports = dict(imports=['rotated_tod'], allow_failed_imports=False)
log_config = dict(interval=50, hooks=[dict(type='TextLoggerHook')])
# nccl on GPU; rotated_tod's tools switch to gloo on CPU.
dist_params = dict(backend='nccl')
log_level = 'INFO'
load_from = None
resume_from = None
workflow = [('train', 1)]
opencv_num_threads = 0
mp_start_method = 'fork'
checkpoint_config = dict(interval=1)
