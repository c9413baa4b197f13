package dev.spindle.peers;

import java.io.FileOutputStream;
import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.hadoop.thirdparty.protobuf.DescriptorProtos.FileDescriptorSet;
import org.apache.hadoop.thirdparty.protobuf.Descriptors.FileDescriptor;

/**
 * Writes the protobuf schemas compiled into Hadoop 3.5's generated classes (each outer class
 * embeds its FileDescriptorProto) as one binary FileDescriptorSet, dependencies included.
 * Usage: WireSchemas OUT_FILE. Prints files=N.
 */
public final class WireSchemas {
  private static final String[] CLASSES = {
    "org.apache.hadoop.ipc.protobuf.RpcHeaderProtos",
    "org.apache.hadoop.ipc.protobuf.IpcConnectionContextProtos",
    "org.apache.hadoop.ipc.protobuf.ProtobufRpcEngine2Protos",
    "org.apache.hadoop.security.proto.SecurityProtos",
    "org.apache.hadoop.yarn.proto.YarnProtos",
    "org.apache.hadoop.yarn.proto.YarnServiceProtos",
    "org.apache.hadoop.yarn.proto.YarnSecurityTokenProtos",
    "org.apache.hadoop.yarn.proto.ApplicationClientProtocol",
    "org.apache.hadoop.yarn.proto.ApplicationMasterProtocol",
    "org.apache.hadoop.yarn.proto.ContainerManagementProtocol",
    "org.apache.hadoop.hdfs.protocol.proto.ClientNamenodeProtocolProtos",
    "org.apache.hadoop.hdfs.protocol.proto.HdfsProtos",
    "org.apache.hadoop.hdfs.protocol.proto.AclProtos",
  };

  public static void main(String[] args) throws Exception {
    Map<String, FileDescriptor> files = new LinkedHashMap<>();
    for (String name : CLASSES) {
      FileDescriptor fd = (FileDescriptor) Class.forName(name).getMethod("getDescriptor").invoke(null);
      add(fd, files);
    }
    FileDescriptorSet.Builder set = FileDescriptorSet.newBuilder();
    for (FileDescriptor fd : files.values()) {
      set.addFile(fd.toProto());
    }
    try (FileOutputStream out = new FileOutputStream(args[0])) {
      set.build().writeTo(out);
    }
    System.out.println("files=" + files.size());
  }

  private static void add(FileDescriptor fd, Map<String, FileDescriptor> files) {
    if (files.containsKey(fd.getName())) {
      return;
    }
    for (FileDescriptor dep : fd.getDependencies()) {
      add(dep, files);
    }
    files.put(fd.getName(), fd);
  }
}
