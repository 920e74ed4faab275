"""deepface's gRPC messages, generated from ``deepface.proto`` when this module is imported.

A wheel built with grpcio-tools replaces this loader with the generated file (``generate``)."""

from deepface.api.proto.generate import load_module

load_module("deepface_pb2", globals())
