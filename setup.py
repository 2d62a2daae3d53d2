from setuptools import find_packages, setup


def read_requirements(path: str) -> list:
    with open(path) as f:
        return [
            line.strip() for line in f
            if line.strip() and not line.startswith('#')
        ]


setup(
    name='rotated_tod',
    version='0.1.0',
    description='Tiny and oriented object detection methods for MMRotate 0.3.x',
    packages=find_packages(exclude=('tests', 'configs', 'tools', 'bench')),
    python_requires='>=3.9',
    install_requires=read_requirements('requirements/runtime.txt'),
    extras_require={'tests': read_requirements('requirements/tests.txt')},
    zip_safe=False,
)
