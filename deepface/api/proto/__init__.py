"""deepface's gRPC messages and service: ``deepface_pb2`` and ``deepface_pb2_grpc``, generated
from ``deepface.proto`` by grpcio-tools (at build time, else at import: see ``generate``)."""
