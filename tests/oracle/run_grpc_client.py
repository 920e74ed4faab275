"""A client built from upstream deepface's own generated gRPC stubs, talking to a server.

    PYTHONPATH=.oracle python tests/oracle/run_grpc_client.py '{"target": "127.0.0.1:PORT", ...}'

Request keys: ``target``, ``token``, ``image`` (a path whose bytes are sent) and ``options``
(RepresentRequest fields). Prints ``ORACLE-JSON`` and: the stubs' file, the serialized file
descriptor (hex), the Represent answer as a dict, and the status code of a wrong-token call.
"""

import json
import sys

import grpc
from deepface.api.proto import deepface_pb2, deepface_pb2_grpc
from google.protobuf import descriptor_pb2, json_format


def main() -> None:
    request = json.loads(sys.argv[1])
    descriptor = descriptor_pb2.FileDescriptorProto()
    deepface_pb2.DESCRIPTOR.CopyToProto(descriptor)
    with open(request["image"], "rb") as handle:
        content = handle.read()
    message = deepface_pb2.RepresentRequest(img=deepface_pb2.Image(content=content), **request["options"])
    with grpc.insecure_channel(request["target"]) as channel:
        stub = deepface_pb2_grpc.DeepFaceServiceStub(channel)
        answer = stub.Represent(message, metadata=[("authorization", f"Bearer {request['token']}")], timeout=120)
        try:
            stub.Represent(message, metadata=[("authorization", "Bearer wrong")], timeout=60)
            wrong = "OK"
        except grpc.RpcError as err:
            wrong = err.code().name
    print("ORACLE-JSON " + json.dumps({
        "stubs_file": deepface_pb2.__file__,
        "descriptor": descriptor.SerializeToString().hex(),
        "represent": json_format.MessageToDict(answer.result),
        "wrong_token": wrong,
    }))


if __name__ == "__main__":
    main()
