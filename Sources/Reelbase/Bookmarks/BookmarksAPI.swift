/// OpenAPI part: bookmarks.
enum BookmarksAPI: APIPart {
    static var paths: OAS.Object {
        let video = [OAS.pathParameter("video_id")]
        let state = OAS.object(["video_id": OAS.uuid, "is_bookmarked": OAS.boolean])
        let paths: OAS.Object = [
            "/v1/bookmarks": [
                "get": OAS.operation(
                    "The videos the caller bookmarked and can see, newest bookmark first", tag: "Bookmarks", auth: .user,
                    parameters: OAS.pageParameters, responses: [200: ("A page of videos", OAS.ref("VideoPage"))])
            ],
            "/v1/bookmarks/videos/{video_id}": [
                "post": OAS.operation(
                    "Bookmark a video (idempotent; a repeat keeps the first time)", tag: "Bookmarks", auth: .user, parameters: video,
                    responses: [200: ("Bookmarked", state)]),
                "delete": OAS.operation(
                    "Remove a bookmark (idempotent, any video id)", tag: "Bookmarks", auth: .user, parameters: video,
                    responses: [200: ("Not bookmarked", state)]),
            ],
        ]
        return paths.merging(BatchCheck<BookmarkedVideos>.paths) { $1 }
    }

    static var schemas: OAS.Object { [:] }
}
