"""qa-service: FAQ answering for customer support, with escalation to humans."""

__version__ = "0.1.0"
