import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Date;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Drives the emulator with the Snowflake JDBC driver, as a user's code would, and prints one JSON object of
 * what each check saw; emulator/test/jdbc-driver.test.ts asserts on it.
 *
 * <pre>java -cp 'lib/*' JdbcClient.java &lt;emulator url&gt; &lt;user&gt; &lt;password&gt; &lt;database to create&gt;</pre>
 */
public class JdbcClient {
  interface Check {
    Object run() throws Exception;
  }

  static final Map<String, Object> out = new LinkedHashMap<>();
  static String url;
  static Properties props = new Properties();
  static String db;
  static Connection conn;

  public static void main(String[] args) throws Exception {
    java.net.URI uri = java.net.URI.create(args[0]);
    // ssl=off: the emulator speaks plain HTTP. Results as JSON: the emulator has no Arrow encoder (it says
    // so in JDBC_QUERY_RESULT_FORMAT at login); the session parameter is set here too, as a user would.
    url = "jdbc:snowflake://" + uri.getHost() + ":" + uri.getPort() + "/?account=floe&ssl=off";
    props.put("user", args[1]);
    props.put("password", args[2]);
    props.put("JDBC_QUERY_RESULT_FORMAT", "JSON");
    props.put("loginTimeout", "30");
    // The driver would otherwise probe cloud metadata endpoints (AWS, GCP, Azure) at every sign-in.
    props.put("disablePlatformDetection", "true");
    db = args[3];
    conn = DriverManager.getConnection(url, props);
    out.put("version", conn.getMetaData().getDriverVersion());
    try (Statement s = conn.createStatement()) {
      s.execute("create database " + db);
      s.execute(
          "create or replace table " + db + ".public.t"
              + " (i int, f float, n number(10,2), s varchar(20), d date, ts timestamp_ntz, b binary)");
    }
    check("round_trip", JdbcClient::roundTrip);
    check("binds", () -> firstRow("select ? as a, ? as b", 1, "two"));
    check("text_into_number", JdbcClient::textIntoNumber);
    check("batch_insert", JdbcClient::batchInsert);
    check("multi_chunk", JdbcClient::multiChunk);
    check("transaction", JdbcClient::transaction);
    check("missing_object", () -> failure("select * from " + db + ".public.nothing"));
    check("division_by_zero", () -> failure("select 1/0"));
    check("multi_statement", JdbcClient::multiStatement);
    check("result_scan", JdbcClient::resultScan);
    check("put_copy_get", JdbcClient::putCopyGet);
    conn.close();
    System.out.println(json(out));
  }

  /** Records what fn saw, or its error, so that one failing check does not hide the others. */
  static void check(String name, Check fn) {
    try {
      out.put(name, fn.run());
    } catch (Exception e) {
      Map<String, Object> report = new LinkedHashMap<>();
      report.put("error", e.getClass().getSimpleName());
      report.put("message", String.valueOf(e.getMessage()));
      if (e instanceof SQLException se) {
        report.put("errorCode", se.getErrorCode());
        report.put("sqlState", se.getSQLState());
      }
      out.put(name, report);
    }
  }

  /** The first row of a query with bound parameters, as strings. */
  static List<String> firstRow(String sql, Object... params) throws SQLException {
    try (PreparedStatement ps = conn.prepareStatement(sql)) {
      for (int k = 0; k < params.length; k++) ps.setObject(k + 1, params[k]);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        List<String> row = new ArrayList<>();
        for (int c = 1; c <= rs.getMetaData().getColumnCount(); c++) row.add(rs.getString(c));
        return row;
      }
    }
  }

  /** One row of every common type with typed binds, read back with typed getters. */
  static Object roundTrip() throws SQLException {
    try (PreparedStatement ps = conn.prepareStatement("insert into " + db + ".public.t values (?, ?, ?, ?, ?, ?, ?)")) {
      ps.setInt(1, 7);
      ps.setDouble(2, 1.5);
      ps.setBigDecimal(3, new BigDecimal("12.34"));
      ps.setString(4, "héllo");
      ps.setDate(5, Date.valueOf("2024-02-29"));
      ps.setTimestamp(6, Timestamp.valueOf("2024-01-02 03:04:05.123456"));
      ps.setBytes(7, new byte[] {(byte) 0xca, (byte) 0xfe});
      ps.executeUpdate();
    }
    try (Statement s = conn.createStatement();
        ResultSet rs = s.executeQuery("select i, f, n, s, d, ts, b from " + db + ".public.t")) {
      rs.next();
      Map<String, Object> got = new LinkedHashMap<>();
      got.put("i", rs.getInt(1));
      got.put("f", rs.getDouble(2));
      got.put("n", rs.getBigDecimal(3).toPlainString());
      got.put("s", rs.getString(4));
      got.put("d", rs.getDate(5).toString());
      got.put("ts", rs.getTimestamp(6).toString());
      got.put("b", HexFormat.of().formatHex(rs.getBytes(7)));
      return got;
    }
  }

  /** Text bound into a NUMBER column, and text added to a number: Snowflake converts both. */
  static Object textIntoNumber() throws SQLException {
    try (Statement s = conn.createStatement()) {
      s.execute("create or replace table " + db + ".public.num (a number(10,0))");
    }
    try (PreparedStatement ps = conn.prepareStatement("insert into " + db + ".public.num values (?)")) {
      ps.setString(1, "41");
      ps.executeUpdate();
    }
    return firstRow("select a + '1' from " + db + ".public.num").get(0);
  }

  /** 50 rows in one executeBatch (the driver sends them as one array bind). */
  static Object batchInsert() throws SQLException {
    try (Statement s = conn.createStatement()) {
      s.execute("create or replace table " + db + ".public.m (a int, b varchar)");
    }
    int[] counts;
    try (PreparedStatement ps = conn.prepareStatement("insert into " + db + ".public.m values (?, ?)")) {
      for (int k = 0; k < 50; k++) {
        ps.setInt(1, k);
        ps.setString(2, "r" + k);
        ps.addBatch();
      }
      counts = ps.executeBatch();
    }
    List<String> row = firstRow("select count(*), sum(a) from " + db + ".public.m");
    return List.of(counts.length, row.get(0), row.get(1));
  }

  /** 70,000 rows (several chunks the driver downloads ahead), checked in order. */
  static Object multiChunk() throws SQLException {
    long count = 0;
    boolean inOrder = true;
    try (Statement s = conn.createStatement();
        ResultSet rs = s.executeQuery("select seq4() as n from table(generator(rowcount => 70000)) order by n")) {
      while (rs.next()) {
        inOrder = inOrder && rs.getLong(1) == count;
        count++;
      }
    }
    return Map.of("count", count, "inOrder", inOrder);
  }

  /** An uncommitted insert is invisible to another session and undone by rollback; a commit keeps it. */
  static Object transaction() throws SQLException {
    try (Connection other = DriverManager.getConnection(url, props);
        Statement s = other.createStatement()) {
      s.execute("create or replace table " + db + ".public.tx (a int)");
      other.setAutoCommit(false);
      s.execute("insert into " + db + ".public.tx values (1)");
      String seen = firstRow("select count(*) from " + db + ".public.tx").get(0);
      other.rollback();
      s.execute("insert into " + db + ".public.tx values (2)");
      other.commit();
      return Map.of("uncommittedSeen", seen, "after", firstRow("select sum(a) from " + db + ".public.tx").get(0));
    }
  }

  /** A statement that must fail: Snowflake's error code and SQLSTATE. */
  static Object failure(String sql) throws Exception {
    try (Statement s = conn.createStatement()) {
      s.execute(sql);
    } catch (SQLException e) {
      return Map.of("errorCode", e.getErrorCode(), "sqlState", e.getSQLState());
    }
    throw new Exception("no error");
  }

  /** Two statements in one request (MULTI_STATEMENT_COUNT = 2), both result sets read. */
  static Object multiStatement() throws SQLException {
    List<String> got = new ArrayList<>();
    try (Statement s = conn.createStatement()) {
      s.unwrap(net.snowflake.client.jdbc.SnowflakeStatement.class).setParameter("MULTI_STATEMENT_COUNT", 2);
      boolean isResult = s.execute("select 1 as a; select 'x' as b");
      while (isResult || s.getUpdateCount() != -1) {
        if (isResult) {
          try (ResultSet rs = s.getResultSet()) {
            while (rs.next()) got.add(rs.getString(1));
          }
        }
        isResult = s.getMoreResults();
      }
    }
    return got;
  }

  /** The previous statement's result, read again through RESULT_SCAN(LAST_QUERY_ID()). */
  static Object resultScan() throws SQLException {
    try (Statement s = conn.createStatement()) {
      s.executeQuery("select 42 as x union all select 43").close();
    }
    return firstRow("select sum(x) from table(result_scan(last_query_id()))").get(0);
  }

  /** PUT to a table stage, COPY INTO the table, GET the file back. */
  static Object putCopyGet() throws Exception {
    Path tmp = Files.createTempDirectory("floe-jdbc-client-");
    try {
      Path src = tmp.resolve("rows.csv");
      Files.writeString(src, "1,one\n2,two\n");
      Map<String, Object> got = new LinkedHashMap<>();
      try (Statement s = conn.createStatement()) {
        s.execute("create or replace table " + db + ".public.st (a int, b varchar)");
        try (ResultSet rs = s.executeQuery("put file://" + src + " @" + db + ".public.%st")) {
          rs.next();
          got.put("put", rs.getString("status"));
        }
        s.execute("copy into " + db + ".public.st from @" + db + ".public.%st file_format = (type = csv)");
        got.put("loaded", firstRow("select count(*) from " + db + ".public.st").get(0));
        Path outDir = tmp.resolve("out");
        s.executeQuery("get @" + db + ".public.%st file://" + outDir).close();
        try (Stream<Path> files = Files.list(outDir)) {
          got.put("got", files.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList()));
        }
      }
      return got;
    } finally {
      try (Stream<Path> walk = Files.walk(tmp)) {
        walk.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
      }
    }
  }

  /** JSON text of maps, lists, strings, numbers, booleans and null. */
  static String json(Object v) {
    if (v == null) return "null";
    if (v instanceof Number || v instanceof Boolean) return v.toString();
    if (v instanceof Map<?, ?> m)
      return m.entrySet().stream()
          .map(e -> json(String.valueOf(e.getKey())) + ":" + json(e.getValue()))
          .collect(Collectors.joining(",", "{", "}"));
    if (v instanceof List<?> l) return l.stream().map(JdbcClient::json).collect(Collectors.joining(",", "[", "]"));
    StringBuilder b = new StringBuilder("\"");
    for (char c : v.toString().toCharArray()) {
      if (c == '"' || c == '\\') b.append('\\').append(c);
      else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
      else b.append(c);
    }
    return b.append('"').toString();
  }
}
