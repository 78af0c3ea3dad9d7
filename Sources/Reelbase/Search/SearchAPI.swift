/// OpenAPI part: search.
enum SearchAPI: APIPart {
    static var paths: OAS.Object {
        let parameters = [
            [
                // No maxLength: the limit counts after trimming, so 100 letters and a space are a valid query.
                "name": "q", "in": "query", "required": true, "schema": ["type": "string", "minLength": 1],
                "description": "1-100 characters after trimming (else 422). Words are runs of letters and digits, compared case-folded and accent-free; nothing is an operator.",
            ] as OAS.Object
        ] + OAS.pageParameters
        return [
            "/v1/search/videos": [
                "get": OAS.operation(
                    "Videos whose title and description words start with every word of q: all words whole in the title first, then all in the title, then the rest; more whole words, then newest, first. With a token each video carries is_liked, is_following and is_bookmarked",
                    tag: "Search", auth: .optionalUser, parameters: parameters, responses: [200: ("A page of videos", OAS.ref("VideoPage"))])
            ],
            "/v1/search/users": [
                "get": OAS.operation(
                    "Users whose username starts with q or whose display-name words start with every word of q: exact username, username prefix, display name, each by username. With a token each carries is_following and follows_you",
                    tag: "Search", auth: .optionalUser, parameters: parameters, responses: [200: ("A page of users", OAS.ref("UserPage"))])
            ],
        ]
    }

    static var schemas: OAS.Object { [:] }
}
