"""The lectures ship with the package without a second copy in git.

The repository keeps its lectures in the top-level ``config/`` folder; an installed
package finds them as ``pipeline/lectures/*.toml`` (``pipeline.paths.shipped_lectures``).
Package discovery (``[tool.setuptools.packages.find]``) only sees real folders, so this
build step adds the mapping ``pipeline.lectures`` -> ``config/``. Everything else is in
``pyproject.toml``.
"""

from setuptools import setup
from setuptools.command.build_py import build_py

LECTURES = "pipeline.lectures"


class BuildPyWithLectures(build_py):
    def finalize_options(self) -> None:
        super().finalize_options()
        if LECTURES not in self.packages:
            self.packages = [*self.packages, LECTURES]
        self.package_dir[LECTURES] = "config"
        self.package_data = {**self.package_data, LECTURES: ["*.toml"]}

    def check_package(self, package, package_dir):  # type: ignore[no-untyped-def]
        if package == LECTURES:  # a data folder: no __init__.py wanted
            return None
        return super().check_package(package, package_dir)


setup(cmdclass={"build_py": BuildPyWithLectures})
