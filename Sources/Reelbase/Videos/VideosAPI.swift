/// OpenAPI part: videos and feeds.
enum VideosAPI: APIPart {
    static var paths: OAS.Object {
        let page = OAS.ref("VideoPage")
        return [
            "/v1/videos": [
                "get": OAS.operation(
                    "The feed, newest first; with a token each video carries is_liked, is_following and is_bookmarked", tag: "Videos",
                    auth: .optionalUser, parameters: OAS.pageParameters, responses: [200: ("A page of videos", page)]),
                "post": OAS.operation(
                    "Publish a video", tag: "Videos", auth: .user,
                    body: OAS.object(
                        [
                            "title": ["type": "string", "minLength": 1, "maxLength": 200],
                            // `null` is accepted for the optional two, as their absence.
                            "description": OAS.nullable(["type": "string", "maxLength": 5000]), "video_url": OAS.uri,
                            "thumbnail_url": OAS.nullable(OAS.uri),
                            "duration_seconds": ["type": "integer", "minimum": 1, "maximum": 3600],
                        ], required: ["title", "video_url", "duration_seconds"]),
                    responses: [201: ("Published", OAS.ref("Video"))]),
            ],
            "/v1/videos/{video_id}": [
                "get": OAS.operation(
                    "A video", tag: "Videos", auth: .optionalUser, parameters: [OAS.pathParameter("video_id")],
                    responses: [200: ("The video", OAS.ref("Video"))]),
                "delete": OAS.operation(
                    "Delete one's own video", tag: "Videos", auth: .user, parameters: [OAS.pathParameter("video_id")],
                    responses: [204: ("Deleted", nil)]),
            ],
            "/v1/users/{user_id}/videos": [
                "get": OAS.operation(
                    "A user's videos, newest first", tag: "Videos", auth: .optionalUser,
                    parameters: [OAS.pathParameter("user_id")] + OAS.pageParameters, responses: [200: ("A page of videos", page)])
            ],
        ]
    }

    static var schemas: OAS.Object {
        [
            "Video": OAS.object(
                [
                    "id": OAS.uuid, "title": OAS.string, "description": OAS.nullable(OAS.string), "video_url": OAS.string,
                    "thumbnail_url": OAS.nullable(OAS.string), "duration_seconds": OAS.integer, "like_count": OAS.integer,
                    "created_at": OAS.dateTime, "user": OAS.ref("User"), "is_liked": OAS.boolean, "is_following": OAS.boolean,
                    "is_bookmarked": OAS.boolean,
                ],
                required: ["id", "title", "description", "video_url", "thumbnail_url", "duration_seconds", "like_count", "created_at", "user"]),
            "VideoPage": OAS.object([
                "videos": OAS.array(OAS.ref("Video")), "next_cursor": OAS.nullable(OAS.string), "has_more": OAS.boolean,
            ]),
        ]
    }
}
