package dev.spindle.minihadoop;

import java.io.File;
import java.io.FileOutputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.Date;
import java.util.Map;
import java.util.TreeMap;

import org.apache.hadoop.conf.Configuration;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * HTTPS for the secure mini-Hadoop ({@code deploy/mini-hadoop --secure --https}): a CA made for
 * this run, one server certificate it signs for the loopback names, and the settings that put the
 * ResourceManager, the NodeManagers, the NameNode and the DataNodes on HTTPS only.
 *
 * <p>Hadoop reads its server and client TLS settings from {@code ssl-server.xml} and {@code
 * ssl-client.xml} as class-path resources (not from the configuration itself): they go into
 * {@code resourceDir}, which deploy/mini-hadoop puts on the cluster JVM's class path and {@link
 * NodeManagerMain} on the NodeManagers'. Clients get {@code ca.pem} (Spindle's {@code
 * spindle.ssl.ca}) and an {@code ssl-client.xml} naming a PKCS#12 trust store (Java clients).
 */
final class Https {
  private static final String PASSWORD = "mini-hadoop";

  /** The CA certificate for clients, PEM. */
  final File caPem;

  private Https(File caPem) {
    this.caPem = caPem;
  }

  /** Makes the CA, the server key store and the trust store, and writes the ssl-*.xml files. */
  static Https setUp(File workDir, File confDir, File resourceDir) throws Exception {
    File dir = new File(workDir, "ssl");
    Main.deleteTree(dir);
    Files.createDirectories(dir.toPath());
    Files.createDirectories(resourceDir.toPath());

    KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
    gen.initialize(2048);
    KeyPair caKeys = gen.generateKeyPair();
    X500Name caName = new X500Name("CN=mini-hadoop CA " + System.currentTimeMillis());
    X509Certificate ca =
        sign(
            new JcaX509v3CertificateBuilder(
                    caName, serial(), notBefore(), notAfter(), caName, caKeys.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                .addExtension(
                    Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign)),
            caKeys);

    KeyPair serverKeys = gen.generateKeyPair();
    GeneralNames names =
        new GeneralNames(
            new GeneralName[] {
              new GeneralName(GeneralName.dNSName, "localhost"),
              new GeneralName(GeneralName.dNSName, InetAddress.getLocalHost().getHostName()),
              new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
            });
    X509Certificate server =
        sign(
            new JcaX509v3CertificateBuilder(
                    caName,
                    serial(),
                    notBefore(),
                    notAfter(),
                    new X500Name("CN=localhost"),
                    serverKeys.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                .addExtension(Extension.subjectAlternativeName, false, names)
                .addExtension(
                    Extension.keyUsage,
                    true,
                    new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment))
                .addExtension(
                    Extension.extendedKeyUsage,
                    false,
                    new ExtendedKeyUsage(
                        new KeyPurposeId[] {
                          KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth
                        })),
            caKeys);

    KeyStore keyStore = KeyStore.getInstance("PKCS12");
    keyStore.load(null, null);
    keyStore.setKeyEntry(
        "server", serverKeys.getPrivate(), PASSWORD.toCharArray(), new Certificate[] {server, ca});
    File keyStoreFile = new File(dir, "server.p12");
    store(keyStore, keyStoreFile);
    KeyStore trustStore = KeyStore.getInstance("PKCS12");
    trustStore.load(null, null);
    trustStore.setCertificateEntry("ca", ca);
    File trustStoreFile = new File(dir, "truststore.p12");
    store(trustStore, trustStoreFile);

    Map<String, String> serverXml = new TreeMap<>();
    serverXml.put("ssl.server.keystore.type", "pkcs12");
    serverXml.put("ssl.server.keystore.location", keyStoreFile.getAbsolutePath());
    serverXml.put("ssl.server.keystore.password", PASSWORD);
    serverXml.put("ssl.server.keystore.keypassword", PASSWORD);
    serverXml.put("ssl.server.truststore.type", "pkcs12");
    serverXml.put("ssl.server.truststore.location", trustStoreFile.getAbsolutePath());
    serverXml.put("ssl.server.truststore.password", PASSWORD);
    Map<String, String> clientXml = new TreeMap<>();
    clientXml.put("ssl.client.truststore.type", "pkcs12");
    clientXml.put("ssl.client.truststore.location", trustStoreFile.getAbsolutePath());
    clientXml.put("ssl.client.truststore.password", PASSWORD);
    Main.write(new File(resourceDir, "ssl-server.xml"), serverXml);
    Main.write(new File(resourceDir, "ssl-client.xml"), clientXml);
    Main.write(new File(confDir, "ssl-client.xml"), clientXml);

    File pem = new File(confDir, "ca.pem");
    String body = Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(ca.getEncoded());
    Main.writeAtomically(pem, "-----BEGIN CERTIFICATE-----\n" + body + "\n-----END CERTIFICATE-----\n");
    return new Https(pem);
  }

  /** HTTPS only on every web endpoint; {@code rmHttpsPort} is the RM's (the others pick free ones). */
  static void apply(Configuration c, String host, int rmHttpsPort) {
    c.set("yarn.http.policy", "HTTPS_ONLY");
    c.set("dfs.http.policy", "HTTPS_ONLY");
    c.set("yarn.resourcemanager.webapp.https.address", host + ":" + rmHttpsPort);
    c.set("dfs.namenode.https-address", "localhost:0");
    c.set("dfs.datanode.https.address", "localhost:0");
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, KeyPair issuer) throws Exception {
    return new JcaX509CertificateConverter()
        .getCertificate(b.build(new JcaContentSignerBuilder("SHA256withRSA").build(issuer.getPrivate())));
  }

  private static BigInteger serial() {
    return BigInteger.valueOf(System.nanoTime()).abs();
  }

  private static Date notBefore() {
    return new Date(System.currentTimeMillis() - 3_600_000L);
  }

  private static Date notAfter() {
    return new Date(System.currentTimeMillis() + 30L * 24 * 3_600_000L);
  }

  private static void store(KeyStore ks, File f) throws Exception {
    try (OutputStream os = new FileOutputStream(f)) {
      ks.store(os, PASSWORD.toCharArray());
    }
  }
}
