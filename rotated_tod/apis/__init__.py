from .inference import inference_huge_image, init_detector
from .test import multi_device_test, test_from_config
from .train import (
                    default_device,
                    prepare_config,
                    train_detector,
                    train_from_config,
                    wrap_model,
)

__all__ = [
    'default_device', 'inference_huge_image', 'init_detector',
    'multi_device_test', 'prepare_config',
    'test_from_config', 'train_detector', 'train_from_config', 'wrap_model'
]
