import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;
import software.amazon.dynamodb.services.local.server.LocalDynamoDBRequestHandler;
import software.amazon.dynamodb.services.local.server.LocalDynamoDBServerHandler;

/**
 * Amazon's DynamoDB Local, listening on 127.0.0.1 only. DynamoDBLocal.jar has no option for the
 * address (its server binds every interface, so anyone on the network could read the members'
 * emails), so this starts the same request handler on a Jetty connector bound to the loopback
 * address. Also: no CORS headers (a web page in the developer's browser cannot read the tables) and
 * no telemetry. Arguments: port [dbPath]; without dbPath the database lives in memory. One shared
 * database for every credential and region, as `-sharedDb` gives.
 */
public final class LoopbackDynamoDBLocal {
  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    String dbPath = args.length > 1 ? args[1] : null;
    LocalDynamoDBRequestHandler requests = new LocalDynamoDBRequestHandler(0, dbPath == null, dbPath, true, false);
    LocalDynamoDBServerHandler handler = new LocalDynamoDBServerHandler(requests, null);
    Server server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(port);
    server.addConnector(connector);
    server.setHandler(new DynamoDBProxyServer(port, handler).setUpHandler(handler));
    server.start();
    server.join();
  }
}
