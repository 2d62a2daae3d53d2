_base_ = './schedule_1x.py'
lr_config = dict(step=[24, 33])
runner = dict(max_epochs=36)
