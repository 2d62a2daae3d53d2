_base_ = './schedule_1x.py'
lr_config = dict(step=[48, 66])
runner = dict(max_epochs=72)
