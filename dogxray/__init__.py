"""dogxray: the AWS "Lambda X-Ray" console lab as commands."""

__version__ = "0.1.0"
