"""What a system is: the model language, models, code generation, the model library."""

from stabkit.model.model import TIME, Model, ModelKind, PythonFunctions

__all__ = ["TIME", "Model", "ModelKind", "PythonFunctions"]
