internal import Foundation

/// The OpenAPI 3.1 description served at `/openapi.json`. A test sends a request to every
/// operation it lists and checks the answers against it, so it stays true.
enum OpenAPI {
    /// The document with an `example` for the user and item path parameters: ids the served
    /// model knows, so a client trying the document (or a fuzzer's examples phase) reaches the
    /// answers for a known user and item, not only 404s. Set on the parsed `root`, written by
    /// `JSONValue`, whose numbers keep their form (3.4028234663852886e+38, not 39 digits a
    /// reader takes for an integer).
    static func document(exampleUser user: String?, exampleItem item: String?) -> String {
        var root = root
        if case .object(var components)? = root["components"], case .object(var parameters)? = components["parameters"] {
            for (parameter, id) in [("UserID", user), ("ItemID", item)] {
                guard let id, case .object(var definition)? = parameters[parameter] else { continue }
                definition["example"] = .string(id)
                parameters[parameter] = .object(definition)
            }
            components["parameters"] = .object(parameters)
            root["components"] = .object(components)
        }
        return JSONValue.object(root).text
    }

    /// The document as served, parsed once: `source` with a `head` operation beside every `get`
    /// (the same parameters and answers, headers only: the server answers HEAD as GET without
    /// the body). Empty if `source` did not parse, which the tests would show at once.
    static let root: [String: JSONValue] = {
        guard case .object(var root)? = try? JSONValue.parse(Data(source.utf8)), case .object(var paths)? = root["paths"] else { return [:] }
        for (path, item) in paths {
            guard case .object(var operations) = item, case .object(var head)? = operations["get"],
                  case .string(let id)? = head["operationId"] else { continue }
            head["operationId"] = .string(id + "Head")
            head["summary"] = .string("The headers of GET \(path), without its body")
            operations["head"] = .object(head)
            paths[path] = .object(operations)
        }
        root["paths"] = .object(paths)
        return root
    }()

    /// The methods the document lists for each path (path parameters as nil segments): a
    /// request to a listed path with another method is answered 405 with these in `Allow`.
    static let methods: [(segments: [Substring?], methods: [String])] = {
        guard case .object(let paths)? = root["paths"] else { return [] }
        return paths.compactMap { path, item in
            guard case .object(let operations) = item else { return nil }
            return (path.split(separator: "/").map { $0.hasPrefix("{") ? nil : $0 },
                    operations.keys.filter { $0 != "parameters" }.map { $0.uppercased() }.sorted())
        }
    }()

    /// The methods the document lists for a request path, nil when it lists no such path.
    static func allowedMethods(path: String) -> [String]? {
        let parts = path.split(separator: "/")
        return methods.first { route in
            route.segments.count == parts.count && zip(route.segments, parts).allSatisfy { $0 == nil || $0 == $1 }
        }?.methods
    }

    /// The fields of an item in `POST /items` and `PATCH /items/{id}`, as the server reads them
    /// (`RecommendationServer.item(_:base:)`): lengths in code points, numbers a 32-bit float holds.
    static let itemFields = ##""title": {"type": ["string", "null"], "maxLength": \##(Limits.titleLength)}, "text": {"type": ["string", "null"], "maxLength": \##(Limits.textLength)}, "categories": {"type": ["array", "null"], "items": {"$ref": "#/components/schemas/ID"}}, "attributes": {"type": ["object", "null"]}, "timestamp": {"anyOf": [{"$ref": "#/components/schemas/Timestamp"}, {"type": "null"}]}, "hidden": {"type": "boolean"}, "vector": {"type": ["array", "null"], "description": "As many numbers as the served model's item vectors, when its items have vectors; when those are its items' texts embedded (--item-vectors text), an item sent without one is embedded from its title, categories and text", "items": {"type": "number", "minimum": -3.4028234663852886e38, "maximum": 3.4028234663852886e38}}"##

    /// The document as written; `root` adds the HEAD operations.
    static let source = #"""
{
  "openapi": "3.1.0",
  "info": {"title": "Braid recommendation server", "version": "1.0.0",
           "description": "Recommendations, similar items and feedback over HTTP. Send an API key as `Authorization: Bearer KEY` (keys are created with `braid keys create --role read|write|admin`). Errors are `{\"error\": {\"code\", \"message\"}}`."},
  "security": [{"bearer": []}],
  "paths": {
    "/health": {"get": {"operationId": "health", "security": [], "summary": "Liveness",
      "responses": {"200": {"description": "Alive", "content": {"application/json": {"schema": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}}}}}}}},
    "/ready": {"get": {"operationId": "ready", "security": [], "summary": "Readiness: a model is loaded",
      "responses": {"200": {"description": "Ready", "content": {"application/json": {"schema": {"type": "object", "required": ["ready", "model", "version"], "properties": {"ready": {"type": "boolean"}, "model": {"type": "string"}, "version": {"type": "integer"}}}}}}}}},
    "/metrics": {"get": {"operationId": "metrics", "security": [], "summary": "Prometheus metrics",
      "responses": {"200": {"description": "Prometheus text format", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
    "/openapi.json": {"get": {"operationId": "openapi", "security": [], "summary": "This document",
      "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
    "/models": {"get": {"operationId": "listModels", "summary": "Model versions served by this process, newest first",
      "responses": {"200": {"description": "Versions", "content": {"application/json": {"schema": {"type": "object", "required": ["models"], "properties": {"models": {"type": "array", "items": {"$ref": "#/components/schemas/ModelVersion"}}, "last_retrain": {"$ref": "#/components/schemas/Retrain"}}}}}},
                    "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}}}},
    "/models/retrain": {"post": {"operationId": "retrain", "summary": "Refit the served model's type and configuration on its data plus the store's feedback, without erased users; the new version serves when ready (422 and the old version keeps serving if the fit fails)",
      "responses": {"200": {"description": "The new version serves", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Retrain"}}}}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}}},
    "/users": {"post": {"operationId": "upsertUsers", "summary": "Create or replace users in a batch",
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["users"], "properties": {"users": {"type": "array", "items": {"$ref": "#/components/schemas/UserInput"}}}}}}},
      "responses": {"200": {"$ref": "#/components/responses/Stored"}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}}}},
    "/users/{id}": {
      "parameters": [{"$ref": "#/components/parameters/UserID"}],
      "get": {"operationId": "getUser", "summary": "A user and the size of their history",
        "responses": {"200": {"description": "The user", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}},
      "patch": {"operationId": "patchUser", "summary": "Replace a user's attributes",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "properties": {"attributes": {"type": ["object", "null"], "description": "The user's attributes, replaced whole; null or left out: none"}}}}}},
        "responses": {"200": {"$ref": "#/components/responses/ID"}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}}},
      "delete": {"operationId": "eraseUser", "summary": "Erase a user: their rows leave the store at once; the model forgets them at once or at the next retrain (see /erasures/{id})",
        "responses": {"200": {"description": "Erased", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErasureResult"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}}}},
    "/erasures/{id}": {
      "parameters": [{"$ref": "#/components/parameters/UserID"}],
      "get": {"operationId": "getErasure", "summary": "State of a user's erasure",
        "responses": {"200": {"description": "The erasure", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Erasure"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}},
    "/items": {"post": {"operationId": "upsertItems", "summary": "Create or replace items in a batch",
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["items"], "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/ItemInput"}}}}}}},
      "responses": {"200": {"$ref": "#/components/responses/Stored"}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}}}},
    "/items/{id}": {
      "parameters": [{"$ref": "#/components/parameters/ItemID"}],
      "get": {"operationId": "getItem", "summary": "An item",
        "responses": {"200": {"description": "The item", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}},
      "patch": {"operationId": "patchItem", "summary": "Change some of an item's fields (hidden: true keeps it out of every list); a new id creates the item, a deleted one is 404 (POST /items creates it again)",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ItemPatch"}}}},
        "responses": {"200": {"description": "Stored durably", "content": {"application/json": {"schema": {"type": "object", "required": ["id", "recommendable_now"], "properties": {"id": {"type": "string"}, "recommendable_now": {"type": "boolean", "description": "The served content or hybrid model read the item's new fields before this reply"}, "not_taken": {"type": "string", "description": "Why the served model could not read them (the item is stored; the next retrain reads it)"}}}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}}},
      "delete": {"operationId": "deleteItem", "summary": "Remove an item from the catalogue; it never appears in a list again",
        "responses": {"200": {"description": "Deleted", "content": {"application/json": {"schema": {"type": "object", "required": ["id", "deleted"], "properties": {"id": {"type": "string"}, "deleted": {"type": "boolean"}}}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}}}},
    "/feedback": {"post": {"operationId": "addFeedback", "summary": "Record feedback events in a batch. An event is identified by (user, item, event, timestamp): sending it again replaces its value, so retries are idempotent.",
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["feedback"], "properties": {"feedback": {"type": "array", "items": {"$ref": "#/components/schemas/Feedback"}}}}}}},
      "responses": {"200": {"description": "Stored durably", "content": {"application/json": {"schema": {"type": "object", "required": ["accepted", "new", "replaced"], "properties": {"accepted": {"type": "integer"}, "new": {"type": "integer"}, "replaced": {"type": "integer"}}}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}}}},
    "/users/{id}/recommendations": {
      "parameters": [{"$ref": "#/components/parameters/UserID"}, {"$ref": "#/components/parameters/N"}, {"$ref": "#/components/parameters/Exclude"}, {"$ref": "#/components/parameters/Category"},
                     {"name": "explain", "in": "query", "schema": {"type": "string", "enum": ["true", "false"]}, "description": "Give each item's reasons"},
                     {"name": "diversify", "in": "query", "schema": {"type": "number", "minimum": 0, "maximum": 1}, "description": "Reorder the list for variety by the items' categories with this weight (or, where none of the candidates has a category, by the cosine of their vectors in the served model); maximal marginal relevance over the best 10 × n items, at least 50; 0 keeps the model's order; the items keep their scores"}],
      "get": {"operationId": "recommend", "summary": "Recommendations from the user's current history (new feedback counts at once). A user without history gets the items popular among the training users who share their stored attributes (method attributes), else popular items.",
        "responses": {"200": {"description": "A list", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/List"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}}}},
    "/recommendations": {"post": {"operationId": "recommendSession", "summary": "Recommendations for an anonymous session whose history is in the body",
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["history"], "properties": {
        "history": {"type": "array", "items": {"type": "object", "additionalProperties": false, "required": ["item"], "properties": {"item": {"$ref": "#/components/schemas/ID"}, "value": {"type": "number", "minimum": -3.4028234663852886e38, "maximum": 3.4028234663852886e38, "description": "Without one: a positive interaction, 1, or the least value the served threshold keeps for the event type when that is more"}, "event": {"type": "string", "maxLength": 64}, "timestamp": {"$ref": "#/components/schemas/Timestamp"}}}},
        "n": {"type": "integer", "minimum": 1, "maximum": 1000}, "exclude": {"type": "array", "items": {"$ref": "#/components/schemas/ID"}}, "category": {"type": "string", "maxLength": 256},
        "explain": {"type": "boolean", "description": "Give each item's reasons"},
        "diversify": {"type": "number", "minimum": 0, "maximum": 1, "description": "Reorder the list for variety by the items' categories with this weight (as the query parameter of GET /users/{id}/recommendations)"},
        "attributes": {"type": ["object", "null"], "description": "The visitor's attributes, as a user's: with no history item the model knows, the list is the items popular among the training users who share them (method attributes)"}}}}}},
      "responses": {"200": {"description": "A list", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/List"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}}}},
    "/items/{id}/similar": {
      "parameters": [{"$ref": "#/components/parameters/ItemID"}, {"$ref": "#/components/parameters/N"}, {"$ref": "#/components/parameters/Exclude"}, {"$ref": "#/components/parameters/Category"}],
      "get": {"operationId": "similarItems", "summary": "The items most similar to an item",
        "responses": {"200": {"description": "A list", "content": {"application/json": {"schema": {"type": "object", "required": ["item", "items"], "properties": {"item": {"type": "string"}, "items": {"type": "array", "items": {"$ref": "#/components/schemas/Scored"}}}}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}},
    "/popular": {
      "parameters": [{"$ref": "#/components/parameters/N"}, {"$ref": "#/components/parameters/Exclude"}, {"$ref": "#/components/parameters/Category"}],
      "get": {"operationId": "popular", "summary": "The most popular items",
        "responses": {"200": {"description": "A list", "content": {"application/json": {"schema": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Scored"}}}}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}}}}
  },
  "components": {
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    "parameters": {
      "UserID": {"name": "id", "in": "path", "required": true, "schema": {"$ref": "#/components/schemas/ID"}},
      "ItemID": {"name": "id", "in": "path", "required": true, "schema": {"$ref": "#/components/schemas/ID"}},
      "N": {"name": "n", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10}},
      "Exclude": {"name": "exclude", "in": "query", "style": "form", "explode": false, "description": "Item ids never to list, comma-separated (leave the parameter out to exclude none)", "schema": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/ID"}}},
      "Category": {"name": "category", "in": "query", "description": "Only items in this category", "schema": {"type": "string"}}
    },
    "responses": {
      "Error": {"description": "An error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Stored": {"description": "Stored durably", "content": {"application/json": {"schema": {"type": "object", "required": ["stored"], "properties": {"stored": {"type": "integer"}, "recommendable_now": {"type": "boolean", "description": "New items with content, or known items whose content changed, were read by the served content-scoring model before this reply"}, "not_taken": {"type": "string", "description": "Why the served model could not read them (the items are stored; the next retrain reads them)"}, "not_taken_items": {"type": "array", "items": {"type": "string"}, "description": "When the served model read some of the items and not others (each tried apart): the ids it could not read"}}}}}},
      "ID": {"description": "Done", "content": {"application/json": {"schema": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}}}}
    },
    "schemas": {
      "ID": {"type": "string", "minLength": 1, "maxLength": 256, "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]+$", "description": "Up to 256 characters (code points), no control characters"},
      "Timestamp": {"anyOf": [{"type": "number", "exclusiveMinimum": -100000000000, "exclusiveMaximum": 100000000000, "description": "Seconds since 1970"}, {"type": "string", "format": "date-time", "description": "ISO 8601 date and time (RFC 3339)"}, {"type": "string", "format": "date", "description": "ISO 8601 date"}]},
      "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}},
      "UserInput": {"type": "object", "additionalProperties": false, "required": ["id"], "properties": {"id": {"$ref": "#/components/schemas/ID"}, "attributes": {"type": ["object", "null"], "description": "null or left out: none"}}},
      "User": {"type": "object", "required": ["id", "attributes", "feedback_events", "history_items", "in_model"], "properties": {"id": {"type": "string"}, "attributes": {"type": "object"}, "feedback_events": {"type": "integer"}, "history_items": {"type": "integer"}, "in_model": {"type": "boolean"}}},
      "ItemPatch": {"type": "object", "additionalProperties": false, "description": "Fields left out keep their values; null clears one (JSON merge patch)", "properties": {\#(itemFields)}},
      "ItemInput": {"type": "object", "additionalProperties": false, "required": ["id"], "properties": {"id": {"$ref": "#/components/schemas/ID"}, \#(itemFields)}},
      "Item": {"type": "object", "required": ["id", "in_model"], "properties": {"id": {"type": "string"}, "title": {"type": "string"}, "text": {"type": "string"}, "categories": {"type": "array", "items": {"type": "string"}}, "attributes": {"type": "object"}, "timestamp": {"type": "number"}, "hidden": {"type": "boolean"}, "vector": {"type": "array", "items": {"type": "number"}}, "in_model": {"type": "boolean"}}},
      "Feedback": {"type": "object", "additionalProperties": false, "required": ["user", "item"], "properties": {"user": {"$ref": "#/components/schemas/ID"}, "item": {"$ref": "#/components/schemas/ID"}, "event": {"type": "string", "maxLength": 64, "default": "rating"}, "value": {"type": "number", "minimum": -3.4028234663852886e38, "maximum": 3.4028234663852886e38, "description": "Without one: a positive interaction, 1, or the least value the served threshold keeps for the event type when that is more"}, "timestamp": {"$ref": "#/components/schemas/Timestamp"}}},
      "Scored": {"type": "object", "required": ["item", "score"], "properties": {"item": {"type": "string"}, "score": {"type": "number"}}},
      "List": {"type": "object", "required": ["items", "method", "model_version"], "properties": {"user": {"type": "string"}, "method": {"type": "string", "enum": ["trained", "fold-in", "trained-stale", "popular", "attributes"]}, "model_version": {"type": "integer"},
        "attributes": {"type": "array", "items": {"type": "string"}, "description": "With method attributes: the user's attributes (categories key=value, numbers by bin) whose holders' popular items the list is"},
        "prior": {"type": "object", "required": ["weight", "from"], "description": "A short history the model was not trained on (a new user's first feedback, a session), folded in and leaning on the list without it: each score is z(fold-in) + weight·z(prior list) (braid serve --history-prior); with explain, each item's contributions history and prior add up to its score", "properties": {"weight": {"type": "number"}, "from": {"type": "string", "enum": ["attributes", "popular"]}, "attributes": {"type": "array", "items": {"type": "string"}}}},
        "items": {"type": "array", "items": {"type": "object", "required": ["item", "score"], "properties": {"item": {"type": "string"}, "score": {"type": "number"},
          "because": {"type": "array", "items": {"type": "object", "required": ["weight"], "properties": {"item": {"type": "string"}, "user": {"type": "string"}, "weight": {"type": "number"}}}},
          "because_kind": {"type": "string", "enum": ["contribution", "similarity", "occlusion"]}, "because_rest": {"type": "number"},
          "members": {"type": "object", "additionalProperties": {"type": "number"}},
          "contributions": {"type": "object", "additionalProperties": {"type": "number"}}}}}}},
      "ErasureResult": {"type": "object", "required": ["user", "rows_removed", "model"], "properties": {"user": {"type": "string"}, "rows_removed": {"type": "integer"}, "model": {"$ref": "#/components/schemas/ErasureModelState"}}},
      "Erasure": {"type": "object", "required": ["user", "requested", "rows_removed", "model", "model_done"], "properties": {"user": {"type": "string"}, "requested": {"type": "number"}, "rows_removed": {"type": "integer"}, "model": {"$ref": "#/components/schemas/ErasureModelState"}, "model_done": {"type": ["number", "null"]}}},
      "Retrain": {"type": "object", "required": ["started", "seconds", "version", "error"], "properties": {"started": {"type": "number"}, "seconds": {"type": "number"}, "version": {"type": ["integer", "null"]}, "error": {"type": ["string", "null"]}}},
      "ErasureModelState": {"type": "string", "enum": ["exact", "pending-retrain", "retrained", "not-in-model"]},
      "ModelVersion": {"type": "object", "required": ["version", "model", "source", "loaded", "users", "items", "metrics"], "properties": {"version": {"type": "integer"}, "model": {"type": "string"}, "source": {"type": "string"}, "loaded": {"type": "number"}, "users": {"type": "integer"}, "items": {"type": "integer"}, "metrics": {"type": "object", "additionalProperties": {"type": "number"}}}}
    }
  }
}
"""#
}
