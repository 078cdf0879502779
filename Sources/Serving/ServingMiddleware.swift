import Hummingbird

/// Wraps every route: turns every thrown error into `{"error": …, "status": "error"}` with its
/// status (404 for an unknown route, `Retry-After` on 503), so no request ever gets an empty 500,
/// and counts every answer in `seq2seq_requests_total`.
struct ServingMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics
    let retryAfterSeconds: Int

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        let response: Response
        do {
            response = try await next(request, context)
        } catch let error as ServingError {
            response = errorResponse(error.status, error.description)
        } catch let error as HTTPError where error.status == .notFound {
            response = errorResponse(.notFound, ServingError.notFound(method: request.method.rawValue, path: request.uri.path).description)
        } catch let error as any HTTPResponseError {
            response = errorResponse(error.status, "\(error.status.code) \(error.status.reasonPhrase)")
        } catch {
            response = errorResponse(.internalServerError, "internal error: \(error)")
        }
        metrics.countRequest(path: request.uri.path, code: response.status.code)
        return response
    }

    func errorResponse(_ status: HTTPResponse.Status, _ message: String) -> Response {
        var headers: HTTPFields = [:]
        if status == .serviceUnavailable { headers[.retryAfter] = String(retryAfterSeconds) }
        return (try? TranslationServer.json(status, ErrorResponse(error: message), headers: headers))
            ?? Response(status: status, headers: headers)
    }
}
