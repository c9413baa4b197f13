package dev.spindle.peers;

import java.io.DataOutputStream;
import java.io.File;
import java.io.FileOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.security.token.delegation.DelegationTokenIdentifier;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.security.Credentials;
import org.apache.hadoop.security.token.Token;
import org.apache.hadoop.security.token.TokenIdentifier;
import org.apache.hadoop.security.token.delegation.AbstractDelegationTokenIdentifier;
import org.apache.hadoop.yarn.security.AMRMTokenIdentifier;
import org.apache.hadoop.yarn.security.ContainerTokenIdentifier;
import org.apache.hadoop.yarn.security.NMTokenIdentifier;

/**
 * Hadoop's own {@link Credentials} writing and reading token storage files ("HDTS").
 *
 * <ul>
 *   <li>{@code write <file> <writable|protobuf> <small|full>}: writes a fixed set of tokens and
 *       secrets (the Rust test holds the same set) with {@code writeTokenStorageToStream}.
 *   <li>{@code dump <file>}: reads with {@code Credentials.readTokenStorageFile} and prints one
 *       line per token ({@code token alias=<hex> id=<hex> password=<hex> kind=<s> service=<s>})
 *       and per secret ({@code secret alias=<hex> value=<hex>}), sorted, then {@code tokens=N
 *       secrets=M}.
 *   <li>{@code write-dt <file> <owner> <renewer> <realUser> <issueDate> <maxDate> <seq> <keyId>}:
 *       one HDFS delegation token (alias {@code dt}) whose identifier Hadoop's
 *       {@code DelegationTokenIdentifier} encodes.
 *   <li>{@code idents <file>}: decodes each token's identifier with Hadoop's classes
 *       ({@code Token.decodeIdentifier}) and prints its fields, one line per token, sorted.
 * </ul>
 */
public final class CredentialsPeer {
  public static void main(String[] args) throws Exception {
    if (args.length == 4 && args[0].equals("write")) {
      Credentials.SerializedFormat format =
          args[2].equals("protobuf")
              ? Credentials.SerializedFormat.PROTOBUF
              : Credentials.SerializedFormat.WRITABLE;
      Credentials creds = args[3].equals("full") ? full() : small();
      try (DataOutputStream out = new DataOutputStream(new FileOutputStream(args[1]))) {
        creds.writeTokenStorageToStream(out, format);
      }
      System.out.println("written=" + args[1]);
    } else if (args.length == 2 && args[0].equals("dump")) {
      Credentials creds = Credentials.readTokenStorageFile(new File(args[1]), new Configuration());
      List<String> lines = new ArrayList<>();
      for (Map.Entry<Text, Token<? extends TokenIdentifier>> e : creds.getTokenMap().entrySet()) {
        Token<? extends TokenIdentifier> t = e.getValue();
        lines.add(
            String.format(
                "token alias=%s id=%s password=%s kind=%s service=%s",
                hex(e.getKey().copyBytes()),
                hex(t.getIdentifier()),
                hex(t.getPassword()),
                t.getKind(),
                t.getService()));
      }
      for (Text alias : creds.getAllSecretKeys()) {
        lines.add(
            String.format(
                "secret alias=%s value=%s", hex(alias.copyBytes()), hex(creds.getSecretKey(alias))));
      }
      Collections.sort(lines);
      for (String l : lines) {
        System.out.println(l);
      }
      System.out.println("tokens=" + creds.numberOfTokens() + " secrets=" + creds.numberOfSecretKeys());
    } else if (args.length == 9 && args[0].equals("write-dt")) {
      DelegationTokenIdentifier id =
          new DelegationTokenIdentifier(new Text(args[2]), new Text(args[3]), new Text(args[4]));
      id.setIssueDate(Long.parseLong(args[5]));
      id.setMaxDate(Long.parseLong(args[6]));
      id.setSequenceNumber(Integer.parseInt(args[7]));
      id.setMasterKeyId(Integer.parseInt(args[8]));
      Credentials creds = new Credentials();
      creds.addToken(
          new Text("dt"), new Token<>(id.getBytes(), bytes("pw"), id.getKind(), new Text("nn:8020")));
      try (DataOutputStream out = new DataOutputStream(new FileOutputStream(args[1]))) {
        creds.writeTokenStorageToStream(out, Credentials.SerializedFormat.WRITABLE);
      }
      System.out.println("written=" + args[1]);
    } else if (args.length == 2 && args[0].equals("idents")) {
      Credentials creds = Credentials.readTokenStorageFile(new File(args[1]), new Configuration());
      List<String> lines = new ArrayList<>();
      for (Map.Entry<Text, Token<? extends TokenIdentifier>> e : creds.getTokenMap().entrySet()) {
        lines.add("alias=" + e.getKey() + " " + describe(e.getValue().decodeIdentifier()));
      }
      Collections.sort(lines);
      for (String l : lines) {
        System.out.println(l);
      }
    } else {
      System.err.println(
          "usage: write <file> <writable|protobuf> <small|full> | dump <file> | idents <file>"
              + " | write-dt <file> <owner> <renewer> <realUser> <issue> <max> <seq> <keyId>");
      System.exit(2);
    }
  }

  /** The fields of a decoded token identifier, as Hadoop's own classes decode them. */
  private static String describe(TokenIdentifier id) {
    if (id instanceof AMRMTokenIdentifier) {
      AMRMTokenIdentifier a = (AMRMTokenIdentifier) id;
      return "amrm attempt=" + a.getApplicationAttemptId() + " keyId=" + a.getKeyId();
    }
    if (id instanceof NMTokenIdentifier) {
      NMTokenIdentifier n = (NMTokenIdentifier) id;
      return String.format(
          "nm attempt=%s node=%s submitter=%s keyId=%d",
          n.getApplicationAttemptId(), n.getNodeId(), n.getApplicationSubmitter(), n.getKeyId());
    }
    if (id instanceof ContainerTokenIdentifier) {
      ContainerTokenIdentifier c = (ContainerTokenIdentifier) id;
      return String.format(
          "container id=%s nmHost=%s submitter=%s memory=%d vcores=%d expiry=%d masterKeyId=%d"
              + " rmIdentifier=%d priority=%d creationTime=%d",
          c.getContainerID(),
          c.getNmHostAddress(),
          c.getApplicationSubmitter(),
          c.getResource().getMemorySize(),
          c.getResource().getVirtualCores(),
          c.getExpiryTimeStamp(),
          c.getMasterKeyId(),
          c.getRMIdentifier(),
          c.getPriority().getPriority(),
          c.getCreationTime());
    }
    if (id instanceof AbstractDelegationTokenIdentifier) {
      AbstractDelegationTokenIdentifier d = (AbstractDelegationTokenIdentifier) id;
      return String.format(
          "dt owner=%s renewer=%s realUser=%s issueDate=%d maxDate=%d sequenceNumber=%d"
              + " masterKeyId=%d",
          d.getOwner(),
          d.getRenewer(),
          d.getRealUser(),
          d.getIssueDate(),
          d.getMaxDate(),
          d.getSequenceNumber(),
          d.getMasterKeyId());
    }
    return "unknown " + (id == null ? "null" : id.getClass().getName());
  }

  /** One token and one secret: the Rust test compares the files byte for byte. */
  static Credentials small() {
    Credentials c = new Credentials();
    c.addToken(new Text("alias1"), token(bytes("abc"), bytes("pw"), "TEST_KIND", "127.0.0.1:1234"));
    c.addSecretKey(new Text("sparkCookie"), bytes("s3cr3t"));
    return c;
  }

  /** Several tokens (one under the empty alias, binary identifiers) and secrets. */
  static Credentials full() {
    Credentials c = small();
    byte[] id = new byte[300];
    byte[] pw = new byte[256];
    for (int i = 0; i < id.length; i++) {
      id[i] = (byte) (i * 7);
    }
    for (int i = 0; i < pw.length; i++) {
      pw[i] = (byte) i;
    }
    c.addToken(new Text(""), token(id, pw, "YARN_AM_RM_TOKEN", ""));
    c.addToken(
        new Text("hdfs://localhost:9000"),
        token(bytes("dt-ident"), new byte[0], "HDFS_DELEGATION_TOKEN", "ha-hdfs:nn"));
    c.addSecretKey(new Text("empty"), new byte[0]);
    c.addSecretKey(new Text("binary"), new byte[] {0, (byte) 0xff, (byte) 0x80, 1});
    c.addSecretKey(new Text("ünïcode"), bytes("v"));
    return c;
  }

  private static Token<TokenIdentifier> token(byte[] id, byte[] pw, String kind, String service) {
    return new Token<>(id, pw, new Text(kind), new Text(service));
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String hex(byte[] b) {
    StringBuilder sb = new StringBuilder();
    for (byte x : b) {
      sb.append(String.format("%02x", x));
    }
    return sb.toString();
  }
}
